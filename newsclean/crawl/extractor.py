"""What a spider extracts with: inline, or in an :class:`~newsclean.crawl.pool.ExtractionPool` tied
to the crawl (``NEWSCLEAN_WORKERS`` workers, started when the spider opens, closed when it closes or
the engine stops)."""

from __future__ import annotations

import logging
from typing import Self

from scrapy import signals
from scrapy.crawler import Crawler

from newsclean import config
from newsclean.crawl.pool import ExtractionPool
from newsclean.extraction.result import Extraction

logger = logging.getLogger(__name__)


class Extractor:
    """Extraction for one crawl: in its pool of workers, or inline when there is no pool."""

    def __init__(self, pool: ExtractionPool | None = None) -> None:
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        size = config.WORKERS.get(crawler.settings)
        if size <= 0:
            return cls()
        pool = ExtractionPool(
            size,
            timeout=config.WORKER_TIMEOUT.get(crawler.settings),
            max_pending=config.WORKER_QUEUE.get(crawler.settings),
            faults=config.WORKER_FAULTS.get(crawler.settings),
        )
        extractor = cls(pool)
        crawler.signals.connect(extractor.open, signal=signals.spider_opened)
        crawler.signals.connect(extractor.close, signal=signals.spider_closed)
        crawler.signals.connect(extractor.close, signal=signals.engine_stopped)
        return extractor

    def open(self) -> None:
        if self.pool is not None:
            self.pool.start()
            logger.info("extraction pool: %d workers (pids %s)", self.pool.size, " ".join(map(str, self.pool.pids)))

    def close(self) -> None:
        if self.pool is not None and not self.pool.closed:
            self.pool.close()
            logger.info("extraction pool closed")

    async def extract(
        self, html: str | bytes, url: str | None = None, site: str | None = None, *, encoding: str | None = None
    ) -> Extraction:
        """The page's :class:`~newsclean.extraction.Extraction`, with the rules of the site named
        ``site`` (by default, of the site ``url`` belongs to); may raise
        :class:`~newsclean.crawl.pool.WorkerError`."""
        if self.pool is None:
            # Inline: this process loads the extractors. As in a worker (worker.extract_page).
            from newsclean.extraction.core import extract
            from newsclean.extraction.html import decode
            from newsclean.pagekind import page_kind
            from newsclean.registry import site_named

            result = extract(html, url, site_named(site) if site else None, encoding=encoding)
            if result.article is not None and (kind := page_kind(decode(html, encoding), result.article)):
                return Extraction(None, kind)
            return result
        return await self.pool.extract(html, url, site, encoding=encoding)
