"""Article extraction: plain functions on HTML. Nothing here imports Scrapy.

The names below are imported on first use: a crawl process that leaves extraction to its workers
reads ``Extraction`` without loading trafilatura, readability and langdetect
(about 20 MB and 0.3 s in every crawl).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsclean.extraction.core import extract, extract_article
    from newsclean.extraction.language import detect_language
    from newsclean.extraction.result import Extraction

__all__ = [
    "Extraction",
    "detect_language",
    "extract",
    "extract_article",
]

_MODULES = {
    "Extraction": "result",
    "detect_language": "language",
    "extract": "core",
    "extract_article": "core",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
