"""The download handler that renders pages in a headless browser: scrapy-playwright's, with the
rules every other fetch of the crawl keeps (installed by :func:`newsclean.crawl.render.configure`).

Requests marked ``playwright`` (made by :func:`~newsclean.crawl.render.render_request`) are
rendered in one shared Chromium; every other request goes to Scrapy's HTTP handler, as without it.
On top of scrapy-playwright:

- the browser's own requests (scripts, data, frames, redirects) are sent only when they are
  http(s), on the spider's domains or the site's ``Render.hosts``, allowed by robots.txt (failing
  closed) and not of a kind text never needs (:data:`BLOCKED_TYPES`); each one blocked is counted
  as ``newsclean/render/blocked/<kind>``;
- the whole rendering (navigation, waiting for ``Render.wait_for``) is bounded by the request's
  ``DOWNLOAD_TIMEOUT``, and a rendered page larger than ``DOWNLOAD_MAXSIZE`` is dropped
  (``newsclean/render/too_large``, failed as ``too_large``);
- pages rendered and their time are counted (``newsclean/render/pages``, ``newsclean/render/ms``).

This module imports Playwright: it is loaded only when the handler is installed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Self

from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod
from twisted.internet.error import TimeoutError as DownloadTimeoutError

from newsclean import stats
from newsclean.crawl.render import META, robots_allowed
from newsclean.crawl.safety import OFFSITE, SAFE_SCHEMES, TOO_LARGE, UNSAFE_SCHEME, Refused, allowed_domains, on_domains

logger = logging.getLogger(__name__)

BLOCKED_TYPES = frozenset({"image", "media", "font", "stylesheet", "texttrack", "manifest", "eventsource", "websocket"})
"""Playwright resource types never loaded: pictures, audio and video, fonts, style sheets, subtitles,
web app manifests and push channels hold no article text (a page's DOM is read, not its looks)."""
RESOURCE = "resource"
ROBOTS = "robots"
_SHARED: weakref.WeakKeyDictionary[Crawler, RenderHandler] = weakref.WeakKeyDictionary()


class _OneLine(logging.Filter):
    """scrapy-playwright logs a failed rendering with its traceback; the spider logs it on one line
    (``rendering failed (TimeoutError): URL``), so the traceback is left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith("Closing page due to failed request"):
            record.exc_info = None
            record.exc_text = None
        return True


class RenderHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler under the crawl's rules (see the module doc)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        if not any(isinstance(f, _OneLine) for f in logging.getLogger("scrapy-playwright").filters):
            logging.getLogger("scrapy-playwright").addFilter(_OneLine())
        self.crawler = crawler
        self.closed = False
        self.abort_request = self.blocked
        self._hosts: dict[Page, list[str]] = {}  # a page -> the hosts its site's Render allows besides the domains

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """One handler for http and https: one Playwright driver and one browser for the crawl."""
        if crawler not in _SHARED:
            _SHARED[crawler] = cls(crawler)
        return _SHARED[crawler]  # type: ignore[return-value]

    async def close(self) -> None:
        if not self.closed:  # once, though it serves two schemes
            self.closed = True
            await super().close()

    def _count(self, key: str, by: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, by)

    # The browser's own requests --------------------------------------------------------------------

    async def blocked(self, request: PlaywrightRequest) -> bool:
        """True (and counted) when the browser must not send ``request``."""
        kind = await self.refusal(request)
        if kind is None:
            return False
        self._count(stats.render_blocked(kind))
        logger.debug("browser request blocked (%s): %s", kind, request.url[:200])
        return True

    async def refusal(self, request: PlaywrightRequest) -> str | None:
        url = request.url
        scheme = url.split(":", 1)[0].lower()
        if scheme not in SAFE_SCHEMES:
            return UNSAFE_SCHEME
        if request.resource_type in BLOCKED_TYPES:
            return RESOURCE
        domains = allowed_domains(self.crawler.spider)
        if domains:
            try:
                page: Page | None = request.frame.page
            except Exception:  # a request of no page's (a worker's): nothing vouches for it
                page = None
            hosts = self._hosts.get(page, []) if page is not None else []
            try:
                if not on_domains(url, [*domains, *hosts]):
                    return OFFSITE
            except ValueError:
                return UNSAFE_SCHEME
        if not await robots_allowed(self.crawler, url):
            return ROBOTS
        return None

    # Pages -----------------------------------------------------------------------------------------

    async def _create_page(self, request: Request, spider: Spider) -> Page:
        page = await super()._create_page(request, spider)
        self._hosts[page] = list((request.meta.get(META) or {}).get("hosts") or [])
        page.once("close", lambda _page: self._hosts.pop(page, None))
        return page

    def _timeout(self, request: Request) -> float:
        return float(request.meta.get("download_timeout") or self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT"))

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        spec: dict[str, Any] = request.meta.get(META) or {}
        timeout = self._timeout(request)
        if spec.get("wait_for"):
            wait_ms = min(float(spec.get("timeout") or timeout), timeout) * 1000
            request.meta["playwright_page_methods"] = [
                PageMethod("wait_for_selector", spec["wait_for"], state="attached", timeout=wait_ms)
            ]
        response = await super()._download_request(request, spider)
        maxsize = int(request.meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE")))
        if maxsize and len(response.body) > maxsize:
            self._count(stats.RENDER_TOO_LARGE)
            logger.warning(
                "rendered page of %d bytes over DOWNLOAD_MAXSIZE (%d): %s", len(response.body), maxsize, request.url
            )
            raise Refused(TOO_LARGE, request.url)
        return response

    async def _download_request_with_page(self, request: Request, page: Page, spider: Spider) -> Response:
        """The rendering proper, once the request has its page (waiting for a free page is not
        counted): bounded by ``DOWNLOAD_TIMEOUT`` as a whole; scrapy-playwright closes the page of a
        rendering that failed."""
        timeout = self._timeout(request)
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(super()._download_request_with_page(request, page, spider), timeout)
        except TimeoutError as exc:  # asyncio's: the whole rendering took longer than DOWNLOAD_TIMEOUT
            raise DownloadTimeoutError(f"rendering {request.url} took more than {timeout:g} s") from exc
        took = round((time.monotonic() - started) * 1000)
        self._count(stats.RENDER_PAGES)
        self._count(stats.RENDER_MS, took)
        logger.info("rendered in %d ms: %s", took, request.url)
        return response
