"""What the crawler may fetch, whatever a feed, sitemap, listing, redirect or refresh says: only
``http`` and ``https`` URLs, only on the spider's allowed domains, within Scrapy's URL length
limit; and a name for every way a request can fail or be refused, so that each is counted under
``newsclean/errors/<kind>``.

The spider checks each link before it makes a request of it (:func:`refusal`);
:class:`SafetyMiddleware` checks every request again just before it is downloaded, whoever made it
(a redirect, a meta refresh, robots.txt, a user's spider), so no rule elsewhere has to be right for
the crawl to be safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

SAFE_SCHEMES = frozenset({"http", "https"})

# Kinds of refusal, counted as newsclean/errors/<kind>.
UNSAFE_SCHEME = "unsafe_scheme"  # not http(s): file:, data:, ftp:, javascript:, ...
OFFSITE = "offsite"  # a link to a host outside the spider's allowed domains
OFFSITE_REDIRECT = "offsite_redirect"  # a redirect or meta refresh leaving the allowed domains
BAD_URL = "bad_url"  # not a URL at all (http://[::1)
URL_TOO_LONG = "url_too_long"  # longer than URLLENGTH_LIMIT
TOO_LARGE = "too_large"  # body (as sent or decompressed) over DOWNLOAD_MAXSIZE
ROBOTS = "robots"  # robots.txt forbids it
TOO_MANY_REDIRECTS = "too_many_redirects"  # REDIRECT_MAX_TIMES reached (a loop)


class Refused(IgnoreRequest):
    """A request newsclean will not send, and why (``kind``: one of the constants above)."""

    def __init__(self, kind: str, url: str) -> None:
        super().__init__(f"{kind}: {url[:200]}")
        self.kind = kind


@cache
def _extractor() -> Any:
    import tldextract

    # The public suffix list shipped with tldextract: never fetched, never cached on disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def site_domain(url: str) -> str:
    """The domain a URL's site is registered under: ``https://feeds.bbc.co.uk/x`` -> ``bbc.co.uk``;
    an IP address or a single-label host (``localhost``) as it is; ``""`` for no host."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if not host:
        return ""
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix or host


def domains_of(urls: Iterable[str]) -> list[str]:
    """The allowed domains of a generic spider given ``urls``: each one's site domain, once."""
    return list(dict.fromkeys(d for d in map(site_domain, urls) if d))


def on_domains(url: str, domains: Sequence[str]) -> bool:
    """True when ``url``'s host is one of ``domains`` or under one (Scrapy's offsite rule); every
    host when ``domains`` is empty."""
    if not domains:
        return True
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return any(host == d or host.endswith("." + d) for d in (d.lower().lstrip(".") for d in domains))


def refusal(url: str, domains: Sequence[str], max_length: int = 0) -> str | None:
    """Why ``url`` must not be requested (a kind above), or None when it may be."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. http://[::1 (an unclosed IPv6 bracket)
        return BAD_URL
    if scheme not in SAFE_SCHEMES:
        return UNSAFE_SCHEME
    if max_length and len(url) > max_length:
        return URL_TOO_LONG
    try:
        ok = on_domains(url, domains)
    except ValueError:
        return BAD_URL
    return None if ok else OFFSITE


def allowed_domains(spider: Spider | None) -> list[str]:
    return list(getattr(spider, "allowed_domains", None) or [])


class SafetyMiddleware:
    """Downloader middleware, last before the download: refuses any request that is not http(s) or
    leaves the spider's allowed domains (``offsite_redirect`` when a redirect or refresh led there),
    and a 3xx whose ``Location`` is not http(s) (Scrapy would hand the 3xx on as an error).

    It raises :class:`Refused`, which the request's errback counts; nothing is sent. A robots.txt
    request for a refused host is refused silently (the request that caused it is counted).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        kind = refusal(request.url, allowed_domains(self.crawler.spider))
        if kind is None:
            return
        if kind == OFFSITE and request.meta.get("redirect_urls"):
            kind = OFFSITE_REDIRECT
        if not request.meta.get("dont_obey_robotstxt"):
            logger.warning("refused (%s): %s", kind, request.url[:200])
        raise Refused(kind, request.url)

    def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400 and b"Location" in response.headers:
            location = response.headers.get(b"Location", b"").decode("latin-1").strip()
            try:
                target = urljoin(request.url, location)
            except ValueError:
                target = location
            kind = refusal(target, allowed_domains(self.crawler.spider))
            if kind is not None:
                kind = OFFSITE_REDIRECT if kind == OFFSITE else kind
                logger.warning("refused redirect (%s): %s -> %s", kind, request.url, target[:200])
                raise Refused(kind, target)
        return response


def failure_kind(failure: Failure) -> str:
    """The kind a failed request is counted under: ``http_404``, ``robots``, ``too_large``,
    ``unsafe_scheme``, ``TimeoutError``..."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, Refused):
        return exc.kind
    message = str(exc)
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return ROBOTS
        if "DOWNLOAD_MAXSIZE" in message:  # HttpCompressionMiddleware: too large once decompressed
            return TOO_LARGE
        if "max redirections" in message:
            return TOO_MANY_REDIRECTS
        if "offsite" in message:
            return OFFSITE
        return "ignored"
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only when its body passes DOWNLOAD_MAXSIZE (announced by
        # Content-Length, or counted while it streams in).
        return TOO_LARGE
    return type(exc).__name__
