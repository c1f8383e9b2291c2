"""Extensions for scheduled crawls: one run at a time per spider and store, and a record of each run."""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import closing
from pathlib import Path
from typing import IO, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsclean import config, stats, store
from newsclean.crawl.middlewares import store_path
from newsclean.store import health

logger = logging.getLogger(__name__)


class AlreadyRunningError(RuntimeError):
    """Another crawl of the same spider is writing to the same store."""


class RunLock:
    """Refuses to start a crawl while another crawl of the same spider uses the same store.

    The lock is an ``flock`` on ``<store>.<spider>.lock``: the system releases it when its process
    ends, however it ends, so a killed crawl never blocks the next one.
    """

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = store_path(crawler)
        if path is None or not config.LOCK_ENABLED.get(crawler.settings):
            raise NotConfigured("run lock is off")
        name = getattr(crawler.spidercls, "name", "spider")
        lock = path.with_name(f"{path.name}.{name}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            message = f"another crawl of {name!r} is running against {path} (pid {holder}); not starting a second one"
            logger.error(message)
            raise AlreadyRunningError(message) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        extension = cls(handle)
        crawler.signals.connect(extension.release, signal=signals.engine_stopped)
        return extension

    def release(self) -> None:
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


class RunRecorder:
    """Writes a row to ``runs`` when a crawl starts and completes it when the crawl ends; then
    compares the run with the spider's history and logs an error when the site looks broken."""

    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = store_path(crawler)
        if path is None or not config.RUNS_ENABLED.get(crawler.settings):
            raise NotConfigured("run records are off")
        extension = cls(crawler, path)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        with closing(store.connect(self.path)) as conn:
            self.run_id = store.start_run(conn, spider.name)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        values = stats.run_values(self.crawler.stats.get_stats(), reason)
        with closing(store.connect(self.path)) as conn:
            store.finish_run(conn, self.run_id, values)
            _, reasons = health.check_latest(conn, spider.name)
            if reasons:
                store.finish_run(conn, self.run_id, {**values, "alarm": "; ".join(reasons)})
                logger.error("%s looks broken: %s (see `newsclean check-sites`)", spider.name, "; ".join(reasons))
