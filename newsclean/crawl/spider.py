"""``NewsSpider``: the base of every spider. A site declares (:class:`~newsclean.sites.Site`); this
class finds and fetches.

The spider of a site is made from its declaration (:mod:`newsclean.crawl.sites`): ``name``,
``allowed_domains``, ``feeds``, ``sitemaps``, ``listings`` and ``article_url`` come from the
:class:`~newsclean.sites.Site`, and the pages it fetches are extracted with the site's rules. The
generic spiders (:mod:`newsclean.crawl.generic`) have no site: each page gets the rules of the site
its URL belongs to.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, ClassVar, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from newsclean import config, stats
from newsclean.archive import META_RAW_PAGE, set_raw_page
from newsclean.crawl import render
from newsclean.crawl.extractor import Extractor
from newsclean.crawl.pool import WorkerError
from newsclean.crawl.safety import failure_kind, refusal
from newsclean.dates import now_iso
from newsclean.feeds import MAX_DECOMPRESSED, Entry, Index, parse_index, sitemaps_from_robots
from newsclean.registry import known_sites, site_for_url
from newsclean.sites import Render, Site
from newsclean.version import extractor_version


class NewsSpider(scrapy.Spider):
    """Crawls a site's feeds, sitemaps and listing pages and yields one Article per article page."""

    site: ClassVar[Site | None] = None
    """The site this spider crawls; None (the generic spiders): each page gets the rules of its site."""
    feeds: Sequence[str] = ()
    sitemaps: Sequence[str] = ()
    listings: Sequence[str] = ()
    article_url: str = r"."
    """Regular expression searched in a URL: the pages to extract articles from."""
    may_render: ClassVar[bool] = True
    """False for a spider whose pages never go to the browser (a backfill from WARC files)."""

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        contact = config.CONTACT.get(settings)
        if contact and settings.getpriority("USER_AGENT") <= SETTINGS_PRIORITIES["project"]:
            settings.set("USER_AGENT", f"{settings.get('USER_AGENT')} (+{contact})", priority="spider")
        if config.MIRROR.get(settings):
            handler = "newsclean.crawl.mirror.MirrorDownloadHandler"
            handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), "http": handler, "https": handler}
            settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")
        if cls.may_need_rendering():
            render.configure(settings)  # the headless browser, for this crawl only, when it is there

    @classmethod
    def may_need_rendering(cls) -> bool:
        """True when this spider's pages may need the browser: its site declares ``render``; for the
        generic spiders, some known site does."""
        if not cls.may_render:
            return False
        if cls.site is not None:
            return cls.site.render is not None
        return any(site.render is not None for site in known_sites().values())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._article_re = re.compile(self.article_url)
        self.extractor = Extractor()
        """Inline extraction; a crawl's spider gets the crawl's worker pool (``NEWSCLEAN_WORKERS``)."""
        self.render_ready = False
        """True when pages can be rendered in this crawl (:mod:`newsclean.crawl.render`)."""
        self._render_missing_told = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.extractor = Extractor.from_crawler(crawler)
        spider.render_ready = render.handler_installed(crawler.settings)
        return spider

    def site_name(self) -> str | None:
        """The site whose rules extract this spider's pages: its own; None for the generic spiders,
        whose pages get the rules of the site their URL belongs to (looked up where they are extracted)."""
        return self.site.name if self.site is not None else None

    def is_article(self, url: str) -> bool:
        """True when ``url`` is an article page of this site."""
        return bool(self._article_re.search(url))

    def index_request(
        self, url: str, callback: Callable[[Response], Iterator[Any]], conditional: bool = True
    ) -> scrapy.Request:
        """A request for a feed, sitemap or listing page, never filtered as seen (a crawl resumed from
        ``JOBDIR`` reads it again). ``conditional``: an unchanged page costs a 304 and is not read.

        Sitemaps named by the spider or by robots.txt are often indexes, whose children change while
        they stay the same: those are always fetched; the children they list are conditional. A feed
        or sitemap may be as large as the sitemaps protocol allows (50 MB), more than a page.
        """
        meta: dict[str, Any] = {"newsclean_conditional": conditional, "download_maxsize": MAX_DECOMPRESSED}
        if conditional:
            meta["handle_httpstatus_list"] = [304]
        return scrapy.Request(url, callback, errback=self.on_error, meta=meta, dont_filter=True)

    def seeds(self) -> Iterator[scrapy.Request]:
        """The first requests: feeds, sitemaps (or robots.txt) and listing pages."""
        for url in self.feeds:
            yield self.index_request(url, self.parse_feed)
        for url in self.sitemaps:
            yield self.index_request(url, self.parse_sitemap, conditional=False)
        for url in self.listings:
            yield self.index_request(url, self.parse_listing)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.seeds():
            yield request

    def _count(self, key: str) -> None:
        """Count ``key``, a constant of :mod:`newsclean.stats`, in the crawl stats."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def refused(self, url: str) -> bool:
        """True (and counted as ``newsclean/errors/<kind>``) when ``url``, found in a feed, sitemap or
        listing, must not be requested: not http(s), off the spider's domains, or too long for Scrapy
        (which would drop it without a word). :class:`~newsclean.crawl.safety.SafetyMiddleware`
        checks every request again before it is sent."""
        limit = self.settings.getint("URLLENGTH_LIMIT") if self.settings.getbool("URLLENGTH_ENABLED", True) else 0
        kind = refusal(url, list(getattr(self, "allowed_domains", None) or ()), limit)
        if kind is None:
            return False
        self._count(stats.error(kind))
        self.logger.warning("not requested (%s): %s", kind, url[:200])
        return True

    def article_requests(self, entries: Sequence[Entry]) -> Iterator[scrapy.Request]:
        """Requests for the entries that are article pages of this site.

        ``IncrementalMiddleware`` drops those already stored and unchanged, and repeats within a run.
        """
        for entry in entries:
            if not self.is_article(entry.url):
                self._count(stats.LINKS_NOT_ARTICLE)
                continue
            if self.refused(entry.url):
                continue
            self._count(stats.LINKS_ARTICLE)
            yield scrapy.Request(
                entry.url,
                self.parse_article,
                errback=self.on_error,
                meta={"newsclean_entry": entry},
                dont_filter=True,  # repeats are dropped by URL in IncrementalMiddleware, also after a resume
            )

    def _not_modified(self, response: Response) -> bool:
        if response.status == 304:
            self._count(stats.PAGES_NOT_MODIFIED)
            return True
        return False

    def render_of(self, url: str) -> Render | None:
        """How the page at ``url`` is rendered: its site's ``render`` (None: never)."""
        if not self.may_render:
            return None
        site = self.site if self.site is not None else site_for_url(url)
        return site.render

    def needs_render(self, url: str) -> None:
        """Count a page that needed rendering in a crawl that cannot render; say why once."""
        self._count(stats.RENDER_NEEDS)
        if not self._render_missing_told:
            self._render_missing_told = True
            why = render.unavailable(self.settings) or "this spider does not render"
            self.logger.warning("pages of sites that declare render are not rendered: %s (first: %s)", why, url)

    def on_render_error(self, failure: Failure) -> None:
        """A rendering that gave no page (timeout, browser error, robots, too large): counted as
        ``newsclean/render/failed``, and the page as it was fetched counts as held no article."""
        self._count(stats.RENDER_FAILED)
        request = getattr(failure, "request", None)
        meta = getattr(request, "meta", {}).get(render.META) or {}
        self._count(stats.skipped(meta.get("plain_reason") or "not rendered"))
        self.logger.warning("rendering failed (%s): %s", failure_kind(failure), getattr(request, "url", "?"))

    def on_error(self, failure: Failure) -> None:
        """Count a failed or refused request by kind (``newsclean/errors/http_404``, ``.../robots``,
        ``.../too_large``, ``.../offsite_redirect``, ``.../TimeoutError``) and go on."""
        kind = failure_kind(failure)
        self._count(stats.error(kind))
        request = getattr(failure, "request", None)
        self.logger.warning("%s: %s", kind, getattr(request, "url", "?"))

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """A feed (or whatever index the URL turned out to be): its article links."""
        yield from self.parse_sitemap(response)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A sitemap, sitemap index, feed or robots.txt: its article links and the sitemaps it names."""
        if self._not_modified(response):
            return
        if response.url.endswith("/robots.txt"):
            self._count(stats.PAGES_SITEMAP)
            text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            for url in sitemaps_from_robots(text, response.url):
                if not self.refused(url):
                    yield self.index_request(url, self.parse_sitemap, conditional=False)
            return
        index: Index = parse_index(response.body, response.url)  # parsed once, feed or sitemap
        self._count(stats.PAGES_FEED if index.kind == "feed" else stats.PAGES_SITEMAP)
        if not index.pages and not index.sitemaps:
            self.logger.warning("no entries in %s %s", index.kind or "index", response.url)
        for entry in index.sitemaps:
            if not self.refused(entry.url):
                yield self.index_request(entry.url, self.parse_sitemap)
        yield from self.article_requests(index.pages)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if self._not_modified(response):
            return
        self._count(stats.PAGES_LISTING)
        if not isinstance(response, TextResponse):
            return
        links = dict.fromkeys(_joined(response, href) for href in response.css("a::attr(href)").getall())
        yield from self.article_requests([Entry(url=u) for u in links])

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        if not isinstance(response, HtmlResponse):
            self._count(stats.skipped("not_html"))
            return
        # Awaited, not called: with worker processes the reactor keeps downloading meanwhile. The page
        # goes as fetched, with the charset its Content-Type declares; extraction decodes it.
        charset = http_content_type_encoding(response.headers.get("Content-Type", b"").decode("latin-1"))
        try:
            result = await self.extractor.extract(response.body, response.url, self.site_name(), encoding=charset)
        except WorkerError as exc:  # the page crashed or hung its worker: this page alone is lost
            self._count(stats.error(exc.kind))
            self.logger.error("%s: %s", exc, response.url)
            return
        rendered = response.request is not None and render.META in response.meta
        how = None if rendered else self.render_of(response.url)
        # A site that renders: a page with no article, or too short a one to keep (a teaser, a
        # placeholder), is asked for again through the browser; the page as fetched is not counted.
        short = result.article is not None and result.article.word_count < config.MIN_WORDS.get(self.settings)
        if how is not None and (result.article is None or short or how.when == "always"):
            if self.render_ready:
                reason = result.reason if result.article is None else ("too_short" if short else "")
                agent = self.settings.get("USER_AGENT")
                yield render.render_request(response, how, self.parse_article, self.on_render_error, reason, agent)
                return
            self.needs_render(response.url)
        if result.article is None:
            self.logger.info("no article at %s: %s", response.url, result.reason)
            self._count(stats.skipped(result.reason))
            return
        self._count(stats.PAGES_ARTICLE)
        if rendered:
            result.article.method += "+rendered"
        if "+body_missed" in result.article.method:
            self._count(stats.RULES_BODY_MISSED)
        # The fields extraction cannot know: when, by which newsclean, and where the raw page is kept.
        result.article.fetched_at = now_iso()
        result.article.extractor_version = extractor_version()
        set_raw_page(result.article, response.meta.get(META_RAW_PAGE))  # with NEWSCLEAN_ARCHIVE on
        yield result.article


def _joined(response: Response, href: str) -> str:
    """``href`` made absolute against the page; a malformed one (``http://[::1``) as it is, to be refused."""
    try:
        return response.urljoin(href)
    except ValueError:
        return href
