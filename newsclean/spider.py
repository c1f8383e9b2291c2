"""``NewsSpider``: the base of every site spider. A site declares; this class finds and fetches.

A site spider sets class attributes only::

    class ExampleSpider(NewsSpider):
        name = "example"
        allowed_domains = ["example.com"]
        feeds = ["https://www.example.com/rss"]
        sitemaps = ["https://www.example.com/robots.txt"]   # robots.txt: its Sitemap: lines
        article_url = r"/\\d{4}/\\d{2}/\\d{2}/[\\w-]+$"
        rules = SiteRules(name="example", domains=("example.com",), prune=("//aside",))
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, ClassVar, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from newsclean.dates import now_iso
from newsclean.extraction import SiteRules
from newsclean.feeds import Entry, looks_like_feed, parse_feed, parse_sitemap, sitemaps_from_robots
from newsclean.registry import rules_for_url
from newsclean.workers import Extractor, WorkerError


def _reason_key(reason: str) -> str:
    """A short stats key for a miss: ``no article text found`` -> ``no_article_text_found``."""
    return re.sub(r"[^a-z0-9]+", "_", re.split(r"[:(]", reason)[0].lower()).strip("_")


class NewsSpider(scrapy.Spider):
    """Crawls a site's feeds, sitemaps and listing pages and yields one Article per article page."""

    feeds: ClassVar[Sequence[str]] = ()
    sitemaps: ClassVar[Sequence[str]] = ()
    listings: ClassVar[Sequence[str]] = ()
    article_url: ClassVar[str] = r"."
    """Regular expression searched in a URL: the pages to extract articles from."""
    rules: ClassVar[SiteRules | None] = None
    """Extraction rules; None picks them by each page's domain."""

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        contact = settings.get("NEWSCLEAN_CONTACT")
        if contact and settings.getpriority("USER_AGENT") <= SETTINGS_PRIORITIES["project"]:
            settings.set("USER_AGENT", f"{settings.get('USER_AGENT')} (+{contact})", priority="spider")
        if settings.get("NEWSCLEAN_MIRROR"):
            handler = "newsclean.mirror.MirrorDownloadHandler"
            settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="spider")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._article_re = re.compile(self.article_url)
        self.extractor = Extractor()
        """Inline extraction; a crawl's spider gets the crawl's worker pool (``NEWSCLEAN_WORKERS``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.extractor = Extractor.from_crawler(crawler)
        return spider

    def rules_for(self, url: str) -> SiteRules:
        """The extraction rules for ``url``: the spider's own, else those of the site it belongs to.

        Resolved here, in the crawl process, so that extraction workers never load the spiders (and
        Scrapy with them) to look the rules up.
        """
        return self.rules if self.rules is not None else rules_for_url(url)

    def is_article(self, url: str) -> bool:
        """True when ``url`` is an article page of this site."""
        return bool(self._article_re.search(url))

    def index_request(
        self, url: str, callback: Callable[[Response], Iterator[Any]], conditional: bool = True
    ) -> scrapy.Request:
        """A request for a feed, sitemap or listing page, never filtered as seen (a crawl resumed from
        ``JOBDIR`` reads it again). ``conditional``: an unchanged page costs a 304 and is not read.

        Sitemaps named by the spider or by robots.txt are often indexes, whose children change while
        they stay the same: those are always fetched; the children they list are conditional.
        """
        meta: dict[str, Any] = {"newsclean_conditional": conditional}
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
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsclean/{key}")

    def article_requests(self, entries: Sequence[Entry]) -> Iterator[scrapy.Request]:
        """Requests for the entries that are article pages of this site.

        ``IncrementalMiddleware`` drops those already stored and unchanged, and repeats within a run.
        """
        for entry in entries:
            if not self.is_article(entry.url):
                self._count("links/not_article")
                continue
            self._count("links/article")
            yield scrapy.Request(
                entry.url,
                self.parse_article,
                errback=self.on_error,
                meta={"newsclean_entry": entry},
                dont_filter=True,  # repeats are dropped by URL in IncrementalMiddleware, also after a resume
            )

    def _not_modified(self, response: Response) -> bool:
        if response.status == 304:
            self._count("pages/not_modified")
            return True
        return False

    def on_error(self, failure: Failure) -> None:
        """Count a failed request by kind (``newsclean/errors/http_404``, ``.../TimeoutError``) and go on."""
        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            kind = "ignored"  # robots.txt forbade it, or another middleware dropped it
        else:
            kind = type(failure.value).__name__
        self._count(f"errors/{kind}")
        request = getattr(failure, "request", None)
        self.logger.warning("%s: %s", kind, getattr(request, "url", "?"))

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if self._not_modified(response):
            return
        self._count("pages/feed")
        entries = parse_feed(response.body, response.url)
        if not entries:
            self.logger.warning("no entries in feed %s", response.url)
        yield from self.article_requests(entries)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if self._not_modified(response):
            return
        self._count("pages/sitemap")
        if response.url.endswith("/robots.txt"):
            text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            for url in sitemaps_from_robots(text, response.url):
                yield self.index_request(url, self.parse_sitemap, conditional=False)
            return
        if looks_like_feed(response.body):  # some sites list an RSS feed as a sitemap
            yield from self.parse_feed(response)
            return
        pages, sitemaps = parse_sitemap(response.body, response.url)
        for entry in sitemaps:
            yield self.index_request(entry.url, self.parse_sitemap)
        yield from self.article_requests(pages)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if self._not_modified(response):
            return
        self._count("pages/listing")
        if not isinstance(response, TextResponse):
            return
        links = dict.fromkeys(response.urljoin(href) for href in response.css("a::attr(href)").getall())
        yield from self.article_requests([Entry(url=u) for u in links])

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        if not isinstance(response, HtmlResponse):
            self._count("skipped/not_html")
            return
        # Awaited, not called: with worker processes the reactor keeps downloading meanwhile. The page
        # goes as fetched, with the charset its Content-Type declares; extraction decodes it.
        charset = http_content_type_encoding(response.headers.get("Content-Type", b"").decode("latin-1"))
        try:
            result = await self.extractor.extract(
                response.body, response.url, self.rules_for(response.url), encoding=charset
            )
        except WorkerError as exc:  # the page crashed or hung its worker: this page alone is lost
            self._count(f"errors/{exc.kind}")
            self.logger.error("%s: %s", exc, response.url)
            return
        if result.article is None:
            self.logger.info("no article at %s: %s", response.url, result.reason)
            self._count(f"skipped/{_reason_key(result.reason)}")
            return
        self._count("pages/article")
        result.article.fetched_at = now_iso()
        yield result.article
