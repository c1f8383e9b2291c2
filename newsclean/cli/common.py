"""What every ``newsclean`` command shares: the error for bad input, reading a saved page, the
project's Scrapy settings."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsclean.sites import Site


class UsageError(Exception):
    """Bad input from the user: printed as ``newsclean: <message>``, exit status 2."""


def max_page_bytes() -> int:
    """The most a page may hold: the crawl's ``DOWNLOAD_MAXSIZE`` (10 MB), for saved pages too."""
    from newsclean import settings

    return int(settings.DOWNLOAD_MAXSIZE)


def check_input(path: str) -> None:
    """:class:`UsageError` unless ``path`` is ``-`` or a readable file of at most :func:`max_page_bytes`
    (checked before anything is printed)."""
    if path == "-":
        return
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{path} is a directory, not a saved page")
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    if not path.endswith(".gz") and file.stat().st_size > max_page_bytes():
        raise UsageError(f"{path}: {file.stat().st_size} bytes, more than a page may hold ({max_page_bytes()})")


def read_input(path: str) -> bytes:
    """The bytes of a saved page: a file (``.gz`` decompressed), or ``-`` for standard input; at most
    :func:`max_page_bytes` (:class:`UsageError` past that, as for a missing or unreadable file)."""
    limit = max_page_bytes()
    check_input(path)
    try:
        data = sys.stdin.buffer.read(limit + 1) if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.endswith(".gz"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, limit + 1)
        except zlib.error as exc:
            raise UsageError(f"{path}: not a readable gzip file ({exc})") from None
    if len(data) > limit:
        raise UsageError(f"{path}: more than a page may hold ({limit} bytes)")
    return data


def scrapy_settings(overrides: dict[str, Any] | None = None) -> Any:
    """The project's Scrapy settings (``newsclean.settings``) with ``overrides`` at command-line priority."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsclean.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.update(overrides or {}, priority="cmdline")
    return settings


def site_named(name: str) -> Site:
    """The known site called ``name``; :class:`UsageError` naming the known ones otherwise."""
    from newsclean.registry import known_sites

    sites = known_sites()
    if name not in sites:
        raise UsageError(f"no site spider named {name!r} (known: {', '.join(sorted(sites))})")
    return sites[name]


@dataclass(frozen=True)
class Page:
    """A fetched page: the final URL (after redirects), the body as served, its Content-Type."""

    url: str
    body: bytes
    content_type: str


def fetch(url: str, mirror: str = "", timeout: float = 30) -> Page:
    """GET ``url`` with newsclean's User-Agent; :class:`UsageError` when it cannot be fetched.

    With ``mirror`` (``http://127.0.0.1:PORT``, as ``NEWSCLEAN_MIRROR``) the page comes from there and
    keeps ``url`` as its URL.
    """
    from newsclean import settings
    from newsclean.urls import mirrored_url

    request = urllib.request.Request(
        mirrored_url(url, mirror) if mirror else url, headers={"User-Agent": settings.USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            final = url if mirror else response.geturl()
            return Page(final, response.read(), response.headers.get("Content-Type", ""))
    except (urllib.error.URLError, OSError) as exc:
        raise UsageError(f"cannot fetch {url}: {exc}") from exc


def check_http_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL with a host; :class:`UsageError` otherwise."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise UsageError(f"not an http(s) URL: {url!r}")
    return url
