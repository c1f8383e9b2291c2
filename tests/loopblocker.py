"""An item pipeline for crawl tests that holds the crawl's event loop, once, the way a slow pipeline,
a long inline extraction or a machine under load does: ``-s LOOP_BLOCK_AT=N`` (the Nth item, before
any other pipeline sees it) ``-s LOOP_BLOCK_SECONDS=S`` (how long the loop is held, ``time.sleep``)."""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class BlockTheLoopOnce:
    def __init__(self, at: int, seconds: float) -> None:
        self.at = at
        self.seconds = seconds
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getint("LOOP_BLOCK_AT"), crawler.settings.getfloat("LOOP_BLOCK_SECONDS"))

    def process_item(self, item: Any) -> Any:
        self.seen += 1
        if self.seen == self.at:
            logger.warning("holding the event loop for %.1f s", self.seconds)
            time.sleep(self.seconds)
            logger.warning("event loop free again")
        return item
