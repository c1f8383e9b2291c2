"""Politeness that holds: ``Retry-After`` honoured, a per-site minimum delay AutoThrottle cannot
lower, and a site that keeps blocking paused for the rest of the run.

``Retry-After`` (:class:`RetryAfterMiddleware`): a site that answers ``429 Too Many Requests`` or
``503 Service Unavailable`` with a ``Retry-After`` gets no request, its retry included, until that
time has passed.

Scrapy's ``RetryMiddleware`` retries 429 and 503 but ignores ``Retry-After``: the retry goes out as
soon as the site's download slot is free. This middleware pauses that slot alone (the queue of
requests for one host), so the other sites of the crawl keep downloading meanwhile.

Minimum delay and blocks (:class:`PolitenessMiddleware`): see its docstring.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from twisted.python.failure import Failure

from newsclean import config, dates, stats
from newsclean.crawl.safety import Refused
from newsclean.registry import site_for_url
from newsclean.sites import Site

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


BLOCKED = "blocked"  # the kind a request refused because its site is paused is counted under (errors/)
BLOCK_STATUSES = frozenset({403, 429})
# Challenge pages: a bot check served in place of the page. Cloudflare marks its own with the header
# ``cf-mitigated: challenge`` (its documented way to tell a challenge from the page); without the
# header, a 403 or 503 whose body loads Cloudflare's challenge script is one too.
CHALLENGE_BODY = b"/cdn-cgi/challenge-platform/"


def challenge(response: Response) -> bool:
    """True when ``response`` is a bot-protection challenge page, not the page asked for."""
    if response.headers.get(b"cf-mitigated", b"").strip().lower() == b"challenge":
        return True
    return response.status in (403, 503) and CHALLENGE_BODY in response.body[:65536]


class PolitenessMiddleware:
    """Downloader middleware (between the conditional requests, 580, and Retry-After, 560): a
    minimum delay per site, and a site that keeps blocking paused for the rest of the run.

    Minimum delay: a site's download slot never sends two requests closer than its floor, the
    largest of ``NEWSCLEAN_MIN_DELAY``, the site's ``min_delay`` (:class:`~newsclean.sites.Site`)
    and its robots.txt ``Crawl-delay`` (set by :class:`~newsclean.crawl.robots.RobotsMiddleware`
    through :meth:`set_crawl_delay`). AutoThrottle sets a slot's delay on every response
    (``response_downloaded``) and may lower it to ``DOWNLOAD_DELAY``; the floor is put back right
    after it (a handler connected once the engine has started, so after AutoThrottle's) and on the
    slot of each request as it reaches the downloader, before the slot sends anything. Where a floor
    applies, the slot's random jitter is narrowed so that no gap falls below it.

    Blocks: ``NEWSCLEAN_BLOCK_STREAK`` answers 403 or 429 in a row from one site (retries
    included), or one challenge page (:func:`challenge`), pause that site for the rest of the run:
    the requests waiting in its slot and every later one are refused (``newsclean/errors/blocked``,
    ``newsclean/politeness/blocked_refused``), counted once as ``newsclean/blocked/<why>``, and one
    line is logged. ``newsclean check-sites`` then reports the run as blocked, not broken. A 429
    with ``Retry-After`` is still honoured first (its pause and retry), and counts in the streak.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.min_delay = config.MIN_DELAY.get(crawler.settings)
        self.streak_limit = config.BLOCK_STREAK.get(crawler.settings)
        self.crawl_delays: dict[str, float] = {}  # host -> robots.txt Crawl-delay (capped)
        self.floors: dict[str, float] = {}  # download slot -> its floor
        self.streaks: dict[str, tuple[int, int]] = {}  # site -> (status, answers with it in a row)
        self.blocked: dict[str, str] = {}  # site -> why it is paused
        crawler.signals.connect(self._engine_started, signal=signals.engine_started)
        crawler.signals.connect(self._request_reached, signal=signals.request_reached_downloader)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # Minimum delay ---------------------------------------------------------------------------

    def _engine_started(self) -> None:
        # Connected now, after every component's own handlers: runs after AutoThrottle's.
        self.crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    def site_of(self, url: str) -> Site:
        spider_site = getattr(self.crawler.spider, "site", None)
        if isinstance(spider_site, Site) and spider_site.matches(url):
            return spider_site
        return site_for_url(url)

    def floor_for(self, url: str) -> float:
        """The minimum delay between two requests to ``url``'s site."""
        host = (urlsplit(url).hostname or "").lower()
        return max(self.min_delay, self.site_of(url).min_delay, self.crawl_delays.get(host, 0.0))

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        """``host``'s robots.txt asks for ``seconds`` between requests: a floor from its next request on."""
        self.crawl_delays[host.lower()] = seconds
        self.floors.pop(host.lower(), None)  # computed again, with the Crawl-delay

    def _downloader(self) -> Any:
        engine = self.crawler.engine
        return None if engine is None else engine.downloader

    def _slot(self, request: Request) -> tuple[str, Any]:
        downloader = self._downloader()
        if downloader is None:
            return "", None
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def _floor(self, key: str, request: Request) -> float:
        if key not in self.floors:
            self.floors[key] = self.floor_for(request.url)
        return self.floors[key]

    @staticmethod
    def _hold(slot: Any, floor: float) -> None:
        if floor <= 0:
            return
        if slot.delay < floor:
            slot.delay = floor
        if slot.jitter and slot.delay * (1 - slot.jitter) < floor:
            slot.jitter = max(0.0, 1 - floor / slot.delay)

    def _request_reached(self, request: Request, spider: Any = None) -> None:
        key, slot = self._slot(request)
        if slot is not None:
            self._hold(slot, self._floor(key, request))

    def _response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        self._request_reached(request)

    # Blocks ------------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def process_request(self, request: Request) -> None:
        site = self.site_key(request.url)
        if site in self.blocked and not request.meta.get("dont_obey_robotstxt"):
            self._count(stats.BLOCKED_REFUSED)
            raise Refused(BLOCKED, request.url)

    def site_key(self, url: str) -> str:
        return (urlsplit(url).hostname or "").lower()

    def process_response(self, request: Request, response: Response) -> Response:
        site = self.site_key(request.url)
        if site in self.blocked:
            return response
        if challenge(response):
            self.block(request, "challenge", f"it answered {request.url} with a challenge page ({response.status})")
            return response
        if request.meta.get("dont_obey_robotstxt"):  # robots.txt and tdmrep.json do not count
            return response
        if response.status in BLOCK_STATUSES:
            status, count = self.streaks.get(site, (response.status, 0))
            count = count + 1 if status == response.status else 1
            self.streaks[site] = (response.status, count)
            if self.streak_limit and count >= self.streak_limit:
                self.block(request, f"status_{response.status}", f"{count} answers {response.status} in a row")
        else:
            self.streaks.pop(site, None)
        return response

    def block(self, request: Request, why: str, detail: str) -> None:
        """Pause ``request``'s site for the rest of the run; refuse what waits in its slot."""
        site = self.site_key(request.url)
        self.blocked[site] = why
        self._count(stats.blocked(why))
        logger.error(
            "%s keeps blocking this crawler (%s): no more requests to it in this run; "
            "`newsclean check-sites` reports it as blocked",
            site,
            detail,
        )
        _, slot = self._slot(request)
        if slot is None:
            return
        while slot.queue:
            queued, deferred = slot.queue.popleft()
            self._count(stats.BLOCKED_REFUSED)
            deferred.errback(Failure(Refused(BLOCKED, queued.url)))


def politeness(crawler: Crawler) -> PolitenessMiddleware:
    """The crawl's :class:`PolitenessMiddleware`; ``NotConfigured`` when it is not enabled."""
    found = crawler.get_downloader_middleware(PolitenessMiddleware)
    if found is None:
        raise NotConfigured("PolitenessMiddleware is not enabled")
    return found
