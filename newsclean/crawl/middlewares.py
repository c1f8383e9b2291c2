"""Middlewares for scheduled crawls: fetch only what is new or changed, and feeds only when they changed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsclean import config, stats, store
from newsclean.dates import announces_change
from newsclean.urls import canonicalize, seen_key

logger = logging.getLogger(__name__)


def store_target(crawler: Crawler) -> str | None:
    """The store (an SQLite path or a PostgreSQL URL), or None when storage is off (then nothing is
    incremental)."""
    if not config.SQLITE_ENABLED.get(crawler.settings):
        return None
    return config.DB.get(crawler.settings)


def wants_refresh(spider: Spider) -> bool:
    """True when this run re-fetches everything: ``-a refresh=1`` or ``NEWSCLEAN_REFRESH``."""
    asked = str(getattr(spider, "refresh", "")).strip().lower() in {"1", "true", "yes", "on"}
    return asked or config.REFRESH.get(spider.settings)


class IncrementalMiddleware:
    """Spider middleware: drops requests for articles already stored, unless their feed or sitemap
    dates them after the stored copy was fetched, and drops repeats of a URL within a run.

    Counts ``newsclean/links/already_stored``, ``.../changed`` and ``.../duplicate``.
    """

    def __init__(self, crawler: Crawler, target: str) -> None:
        self.crawler = crawler
        self.target = target
        self.opened: store.Store | None = None  # the store (either kind), read for each article link
        self.requested: set[bytes] = set()  # seen_key of each canonical URL requested in this run
        self.refresh = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        target = store_target(crawler)
        if target is None:
            raise NotConfigured("storage is off")
        middleware = cls(crawler, target)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        self.refresh = wants_refresh(spider)
        if store.exists(self.target) and not self.refresh:
            # Looked up by URL, one indexed query a link: stored articles are found whichever spider
            # (or host, with PostgreSQL) stored them (rows are stored under the site, the generic
            # spiders are named otherwise), and a store of millions of articles costs no memory.
            self.opened = store.open_store(self.target)
        where = store.where(self.target)
        logger.info("incremental: stored articles looked up in %s; refresh: %s", where, self.refresh)

    def spider_closed(self, spider: Spider) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def wanted(self, request: Request) -> bool:
        """True when ``request`` should be fetched in this run."""
        entry = request.meta.get("newsclean_entry")
        if entry is None:
            return True
        url = canonicalize(request.url)
        key = seen_key(url)
        if key in self.requested:
            self._count(stats.LINKS_DUPLICATE)
            return False
        self.requested.add(key)
        if self.opened is None or self.refresh:
            return True
        fetched = self.opened.fetched_time(*dict.fromkeys((request.url, url)))
        if fetched is None:
            return True
        announced = [d for d in (entry.updated, entry.published) if d]
        urls = dict.fromkeys((request.url, url))
        if announced and announces_change(announced, fetched, self.opened.page_dates(*urls)):
            self._count(stats.LINKS_CHANGED)
            return True
        self._count(stats.LINKS_ALREADY_STORED)
        return False

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            if not isinstance(item, Request) or self.wanted(item):
                yield item

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in result:
            if not isinstance(item, Request) or self.wanted(item):
                yield item


class ConditionalRequestsMiddleware:
    """Downloader middleware: feeds, sitemaps and listing pages are fetched with ``If-None-Match`` /
    ``If-Modified-Since``, so an unchanged one costs a 304.

    Validators are saved only when a run finishes normally: a killed run reads its feeds whole again.
    """

    def __init__(self, crawler: Crawler, target: str) -> None:
        self.crawler = crawler
        self.target = target
        self.known: dict[str, tuple[str, str]] = {}
        self.seen: dict[str, tuple[str, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        target = store_target(crawler)
        if target is None or not config.CONDITIONAL_ENABLED.get(crawler.settings):
            raise NotConfigured("conditional requests are off")
        middleware = cls(crawler, target)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        if store.exists(self.target) and not wants_refresh(spider):  # read from the shared store, if it is one
            with store.open_store(self.target) as opened:
                self.known = opened.load_validators()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished" or not self.seen:
            return
        with store.open_store(self.target) as opened:
            opened.save_validators(self.seen)

    def process_request(self, request: Request) -> None:
        if request.meta.get("newsclean_conditional") and request.url in self.known:
            etag, modified = self.known[request.url]
            if etag:
                request.headers.setdefault(b"If-None-Match", etag.encode())
            if modified:
                request.headers.setdefault(b"If-Modified-Since", modified.encode())

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("newsclean_conditional") and response.status == 200:
            etag = response.headers.get(b"ETag", b"").decode("latin-1")
            modified = response.headers.get(b"Last-Modified", b"").decode("latin-1")
            if etag or modified:
                self.seen[request.url] = (etag, modified)
        return response
