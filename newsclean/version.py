"""Which newsclean produced a row: the package version and a digest of the extraction code.

``extractor_version()`` is ``<package version>+<12 hex digits>``: the digest is taken over the source
of ``newsclean/extraction/`` and of the site declarations, so any change to what extraction does
gives another value, released or not. A row's ``extractor_version`` says which extraction produced
it; ``newsclean reextract`` replaces it when it re-extracts the row with a different one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# Code whose change changes what extraction gives: the extraction package and the site rules.
_SOURCES = (_PACKAGE / "extraction", _PACKAGE.parent / "spiders", _PACKAGE / "sites.py")


def package_version() -> str:
    try:
        return metadata.version("newsclean")
    except metadata.PackageNotFoundError:
        return "0"


@lru_cache(maxsize=1)
def extractor_version() -> str:
    digest = hashlib.sha256()
    for root in _SOURCES:
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root] if root.is_file() else []
        for path in files:
            digest.update(path.relative_to(_PACKAGE.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{package_version()}+{digest.hexdigest()[:12]}"
