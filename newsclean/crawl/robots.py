"""robots.txt done right (RFC 9309), the W3C TDM reservation, and the AI opt-out signals of a page.

:class:`RobotsMiddleware` replaces Scrapy's ``RobotsTxtMiddleware``, which crawls everything when
robots.txt answers 401, 403, 429 or 5xx or does not answer. Per host, once a run:

- ``2xx``: parsed (protego); a request it disallows to ``ROBOTSTXT_USER_AGENT`` (``newsclean``, the
  bare product token) is refused (``newsclean/robots/disallowed``, ``newsclean/errors/robots``);
- ``4xx`` but 429 ("unavailable", RFC 9309 2.3.1.3): every page allowed
  (``newsclean/robots/unavailable``);
- ``429``, ``5xx``, a timeout, a network error, more than 5 redirects, a redirect off the spider's
  domains ("unreachable", 2.3.1.4): the host gets no request (``newsclean/robots/unreachable``;
  each refused: ``newsclean/robots/unreachable_refused``, ``newsclean/errors/robots_unreachable``)
  until ``NEWSCLEAN_ROBOTS_RETRY`` seconds have passed; the next request after that fetches
  robots.txt again. The fetch goes through the downloader middlewares, so Scrapy's retries of 429,
  5xx and timeouts, and ``Retry-After``, come first.
- ``Crawl-delay`` for ``newsclean`` becomes a floor of the host's delay (capped at
  ``NEWSCLEAN_CRAWL_DELAY_MAX``), held by :class:`~newsclean.crawl.politeness.PolitenessMiddleware`.

``/.well-known/tdmrep.json`` is fetched once per host as well (W3C TDMRep), before the first page
robots.txt allows there; its rules, the
``tdm-reservation``/``tdm-policy`` and ``X-Robots-Tag`` headers of each response, the robots.txt
``Content-Signal`` lines and the AI crawlers robots.txt disallows a page to are put in the
request's ``meta["newsclean_signals"]``; :class:`SignalsMiddleware` adds the page's ``<meta>``
signals, writes them into the article's ``signals`` and, with ``NEWSCLEAN_TDM=honour`` (the
default), does not let an article under a TDM reservation through (``newsclean/tdm/reserved``).

Another component asks whether a URL may be fetched with ``await robots.allowed(url)`` (a
coroutine; in Twisted code, ``Deferred.fromFuture(asyncio.ensure_future(...))``), the middleware
found with :func:`robots_middleware`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import ProtegoRobotParser, decode_robotstxt
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from newsclean import config, optout, stats
from newsclean.crawl.politeness import PolitenessMiddleware
from newsclean.crawl.safety import ROBOTS, Refused, allowed_domains, refusal

logger = logging.getLogger(__name__)

ROBOTS_UNREACHABLE = "robots_unreachable"  # kind counted under newsclean/errors/
META_SIGNALS = "newsclean_signals"
REDIRECTS = 5  # RFC 9309 2.3.1.2: at least five consecutive redirects followed
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


@dataclass
class HostRules:
    """What one host's robots.txt and tdmrep.json say, and when they were fetched."""

    state: str  # "parsed" (2xx), "unavailable" (4xx: all allowed), "unreachable" (all disallowed)
    parser: ProtegoRobotParser
    fetched: float = field(default_factory=time.monotonic)
    content_signals: list[str] = field(default_factory=list)
    tdm: list[optout.TdmRule] | None = None  # None: tdmrep.json not fetched yet


class RobotsMiddleware(RobotsTxtMiddleware):
    """Downloader middleware (100, in place of Scrapy's ``RobotsTxtMiddleware``): robots.txt as
    RFC 9309 says, ``Crawl-delay``, TDMRep and the AI signals; see the module's docstring."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.useragent = str(self._robotstxt_useragent or self._default_useragent)
        self.retry = config.ROBOTS_RETRY.get(crawler.settings)
        self.crawl_delay_max = config.CRAWL_DELAY_MAX.get(crawler.settings)
        self.hosts: dict[str, HostRules | list[Deferred[HostRules]]] = {}  # a list: being fetched
        self.tdm_waiting: dict[str, list[Deferred[None]]] = {}  # hosts whose tdmrep.json is being fetched

    # The API of Scrapy's middleware, and the one other components use ----------------------------

    async def robot_parser(self, request: Request, spider: Spider | None = None) -> ProtegoRobotParser:  # type: ignore[override]
        """The robots.txt parser of ``request``'s host (fetched first if need be): for an
        unavailable robots.txt one that allows everything, for an unreachable one one that allows
        nothing."""
        return (await self.host_rules(request.url)).parser

    async def allowed(self, url: str) -> bool:
        """True when robots.txt lets newsclean fetch ``url`` (fetching robots.txt first if need be);
        False when it disallows it or could not be reached."""
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        rules = await self.host_rules(url)
        return rules.state != "unreachable" and rules.parser.allowed(url, self.useragent)

    # Requests ---------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        self._stats.inc_value(key)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:  # type: ignore[override]
        if request.meta.get("dont_obey_robotstxt"):
            return
        if refusal(request.url, allowed_domains(self.crawler.spider)) is not None:
            return  # SafetyMiddleware refuses it, and says why; its host's robots.txt is not fetched
        rules = await self.host_rules(request.url)
        if rules.state == "unreachable":
            self._count(stats.ROBOTS_UNREACHABLE_REFUSED)
            raise Refused(ROBOTS_UNREACHABLE, request.url)
        if not rules.parser.allowed(request.url, self.useragent):
            self._count(stats.ROBOTS_DISALLOWED)
            self._stats.inc_value("robotstxt/forbidden")
            logger.debug("Forbidden by robots.txt: %s", request.url)
            raise Refused(ROBOTS, request.url)
        if rules.tdm is None:
            await self._fetch_tdmrep(request.url, rules)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_obey_robotstxt"):
            return response
        rules = self.hosts.get(_netloc(request.url))
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
        found = optout.header_signals(headers)
        if isinstance(rules, HostRules):
            found = optout.merged(found, self.site_signals(response.url, rules))
        request.meta[META_SIGNALS] = found
        return response

    def site_signals(self, url: str, rules: HostRules) -> list[str]:
        """The signals of ``url`` that its host's robots.txt and tdmrep.json give."""
        ai = [f"robots:{agent}" for agent in optout.AI_CRAWLERS if not rules.parser.rp.can_fetch(url, agent)]
        if rules.state != "parsed":
            ai = []
        return optout.merged(optout.tdmrep_for(url, rules.tdm or []), rules.content_signals, ai)

    # Fetching robots.txt and tdmrep.json --------------------------------------------------------

    async def host_rules(self, url: str) -> HostRules:
        """The rules of ``url``'s host: fetched once per run, again when robots.txt was unreachable
        ``NEWSCLEAN_ROBOTS_RETRY`` seconds ago."""
        netloc = _netloc(url)
        known = self.hosts.get(netloc)
        stale = isinstance(known, HostRules) and known.state == "unreachable"
        if stale and time.monotonic() - known.fetched >= self.retry:  # type: ignore[union-attr]
            del self.hosts[netloc]
            known = None
        if known is None:
            waiting: list[Deferred[HostRules]] = []  # a Deferred per waiter: one result, many awaits
            self.hosts[netloc] = waiting
            try:
                rules = await self._fetch(url)
            except BaseException:
                rules = HostRules("unreachable", self._parser(DISALLOW_ALL))
                raise
            finally:
                self.hosts[netloc] = rules
                for waiter in waiting:
                    waiter.callback(rules)
            return rules
        if isinstance(known, list):
            waiter: Deferred[HostRules] = Deferred()
            known.append(waiter)
            return await maybe_deferred_to_future(waiter)
        return known

    def _parser(self, body: bytes) -> ProtegoRobotParser:
        return ProtegoRobotParser(body, self.crawler.spider)

    async def _download(self, url: str) -> Response:
        assert self.crawler.engine is not None
        request = Request(
            url,
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True, "redirect_ttl": REDIRECTS},
            callback=NO_CALLBACK,
        )
        return await self.crawler.engine.download_async(request)

    async def _fetch(self, url: str) -> HostRules:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        robots_url = f"{base}/robots.txt"
        self._count("robotstxt/request_count")
        try:
            response = await self._download(robots_url)
        except Exception as exc:  # timeout, refused connection, too many redirects, offsite redirect
            return self._unreachable(robots_url, f"{type(exc).__name__}: {exc}")
        self._count("robotstxt/response_count")
        self._count(f"robotstxt/response_status_count/{response.status}")
        status = response.status
        if status == 429 or status >= 500 or 300 <= status < 400:  # a 3xx left: more redirects than allowed
            return self._unreachable(robots_url, f"HTTP {status}")
        if 400 <= status < 500:
            self._count(stats.ROBOTS_UNAVAILABLE)
            logger.info("%s answered %d: robots.txt unavailable, every page allowed (RFC 9309)", robots_url, status)
            rules = HostRules("unavailable", self._parser(b""))
        else:
            rules = HostRules("parsed", self._parser(response.body))
            text = decode_robotstxt(response.body, self.crawler.spider)
            rules.content_signals = optout.content_signals(text, ("*", self.useragent))
            self._crawl_delay(parts.hostname or "", rules)
        return rules

    def _unreachable(self, url: str, why: str) -> HostRules:
        self._count(stats.ROBOTS_UNREACHABLE)
        logger.warning(
            "%s unreachable (%s): no request to this host for %.0f s, then robots.txt is fetched again (RFC 9309)",
            url,
            why,
            self.retry,
        )
        return HostRules("unreachable", self._parser(DISALLOW_ALL))

    def _crawl_delay(self, host: str, rules: HostRules) -> None:
        delay = rules.parser.crawl_delay(self.useragent)
        if not delay or delay <= 0:
            return
        if delay > self.crawl_delay_max:
            self._count(stats.ROBOTS_CRAWL_DELAY_CAPPED)
            logger.warning(
                "%s: robots.txt asks for a Crawl-delay of %.1f s; capped at NEWSCLEAN_CRAWL_DELAY_MAX=%.1f s",
                host,
                delay,
                self.crawl_delay_max,
            )
            delay = self.crawl_delay_max
        else:
            logger.info("%s: robots.txt Crawl-delay %.1f s, the least delay between requests there", host, delay)
        polite = self.crawler.get_downloader_middleware(PolitenessMiddleware)
        if polite is not None:
            polite.set_crawl_delay(host, delay)

    async def _fetch_tdmrep(self, url: str, rules: HostRules) -> None:
        """Read the host's tdmrep.json into ``rules.tdm`` once (other requests wait for it)."""
        netloc = _netloc(url)
        waiting = self.tdm_waiting.get(netloc)
        if waiting is not None:
            waiter: Deferred[None] = Deferred()
            waiting.append(waiter)
            await maybe_deferred_to_future(waiter)
            return
        waiting = self.tdm_waiting[netloc] = []
        parts = urlsplit(url)
        try:
            rules.tdm = await self._tdmrep(f"{parts.scheme}://{parts.netloc}/.well-known/tdmrep.json")
        finally:
            if rules.tdm is None:
                rules.tdm = []
            del self.tdm_waiting[netloc]
            for waiter in waiting:
                waiter.callback(None)

    async def _tdmrep(self, url: str) -> list[optout.TdmRule]:
        try:
            response = await self._download(url)
        except Exception:
            return []
        return optout.parse_tdmrep(response.body) if 200 <= response.status < 300 else []


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def robots_middleware(crawler: Crawler) -> RobotsMiddleware:
    """The crawl's :class:`RobotsMiddleware` (after the engine is made); ``NotConfigured`` without it."""
    found = crawler.get_downloader_middleware(RobotsMiddleware)
    if found is None:
        raise NotConfigured("RobotsMiddleware is not enabled (ROBOTSTXT_OBEY off?)")
    return found


class SignalsMiddleware:
    """Spider middleware: writes each article's TDM and AI signals into its ``signals`` (those the
    :class:`RobotsMiddleware` found for its response, and the page's ``<meta>`` ones), and with
    ``NEWSCLEAN_TDM=honour`` lets no article under a TDM reservation through
    (``newsclean/tdm/reserved``; with ``record``: ``newsclean/tdm/recorded``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.mode = config.TDM.get(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _article(self, response: Response, item: Any) -> Any | None:
        """``item`` with its signals, or None when it must not be stored."""
        if not hasattr(item, "signals") or not hasattr(item, "text"):
            return item
        found = optout.merged(
            item.signals or [],
            response.meta.get(META_SIGNALS, []),
            optout.page_signals(response.body),
        )
        item.signals = found
        if optout.TDM_RESERVED in found:
            if self.mode == "honour":
                self._count(stats.TDM_RESERVED)
                logger.info("not stored, under a TDM reservation (NEWSCLEAN_TDM=honour): %s", response.url)
                return None
            self._count(stats.TDM_RECORDED)
        if found:
            self._count(stats.SIGNALS_ARTICLES)
        return item

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            kept = self._article(response, item)
            if kept is not None:
                yield kept

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in result:
            kept = self._article(response, item)
            if kept is not None:
                yield kept
