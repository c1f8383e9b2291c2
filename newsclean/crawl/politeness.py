"""``Retry-After`` honoured: a site that answers ``429 Too Many Requests`` or ``503 Service
Unavailable`` with a ``Retry-After`` gets no request, its retry included, until that time has passed.

Scrapy's ``RetryMiddleware`` retries 429 and 503 but ignores ``Retry-After``: the retry goes out as
soon as the site's download slot is free. This middleware pauses that slot alone (the queue of
requests for one host), so the other sites of the crawl keep downloading meanwhile.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import call_later

from newsclean import config, dates, stats

logger = logging.getLogger(__name__)

STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date; None when it is neither."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or dates.now())).total_seconds())


def _date(value: str) -> datetime | None:
    """An HTTP ``Date`` header as an aware datetime; None when there is none or it is not a date."""
    try:
        when = parsedate_to_datetime(value) if value.strip() else None
    except (TypeError, ValueError, IndexError):
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=UTC)


class RetryAfterMiddleware:
    """Downloader middleware (before ``RetryMiddleware`` in the response chain): on a 429 or 503 with
    ``Retry-After``, pauses the download slot of that request's site for that long, at most
    ``NEWSCLEAN_RETRY_AFTER_MAX`` seconds. Counts ``newsclean/politeness/retry_after``."""

    def __init__(self, crawler: Crawler, maximum: float) -> None:
        self.crawler = crawler
        self.maximum = maximum
        self.until: dict[str, float] = {}  # slot -> monotonic time its Retry-After pause ends

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, config.RETRY_AFTER_MAX.get(crawler.settings))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in STATUSES and b"Retry-After" in response.headers:
            # An HTTP date is the site's clock: counted from the site's Date, not from ours, so a site
            # whose clock is hours ahead does not pause itself for hours (here: the longest pause).
            sent = response.headers.get(b"Date", b"").decode("latin-1")
            wait = retry_after_seconds(response.headers.get(b"Retry-After", b"").decode("latin-1"), _date(sent))
            if wait:
                self.pause(request, response.status, min(wait, self.maximum))
        return response

    def pause(self, request: Request, status: int, wait: float) -> None:
        """No request for ``request``'s download slot (its site) for ``wait`` seconds."""
        engine = self.crawler.engine
        if engine is None or engine.downloader is None:
            return
        downloader = engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        now = time.monotonic()
        if self.until.get(key, 0.0) < now + wait:  # a longer pause already pending stands
            self.until[key] = now + wait
            if slot.latercall is not None:
                slot.latercall.cancel()
            slot.latercall = call_later(wait, downloader._latercall, slot)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.RETRY_AFTER)
        logger.info("%s answered %d with Retry-After: no request to %s for %.1f s", request.url, status, key, wait)
