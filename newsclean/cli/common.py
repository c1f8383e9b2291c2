"""What every ``newsclean`` command shares: the error for bad input, reading a saved page, the
project's Scrapy settings."""

from __future__ import annotations

import gzip
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsclean.sites import Site


class UsageError(Exception):
    """Bad input from the user: printed as ``newsclean: <message>``, exit status 2."""


def read_input(path: str) -> bytes:
    """The bytes of a saved page: a file (``.gz`` decompressed), or ``-`` for standard input."""
    if path == "-":
        return sys.stdin.buffer.read()
    if not Path(path).is_file():
        raise UsageError(f"no such file: {path}")
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UsageError(f"{path}: not a readable gzip file ({exc})") from exc
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
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise UsageError(f"not an http(s) URL: {url!r}")
    return url
