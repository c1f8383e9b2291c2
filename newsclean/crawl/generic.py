"""Generic spiders for any site: given article URLs, a feed, or a sitemap.

Each page is extracted with the rules of the site its URL belongs to (generic rules for others)::

    scrapy crawl article -a urls=https://a.example/x,https://b.example/y
    scrapy crawl article -a file=urls.txt        # one URL per line, # starts a comment
    scrapy crawl feed -a feed=https://example.com/rss.xml
    scrapy crawl sitemap -a sitemap=https://example.com/sitemap.xml   # or .../robots.txt

A generic spider fetches only from the domains of the URLs it was given (``feeds.example.co.uk``
allows ``example.co.uk`` and its subdomains).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy

from newsclean.crawl.safety import SAFE_SCHEMES, domains_of
from newsclean.crawl.spider import NewsSpider


class SpiderArgumentError(ValueError):
    """A generic spider's arguments are missing or wrong: ``scrapy crawl`` prints it as one line and
    exits 2 before anything (store, lock, run record) is created."""


def _split(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def _checked(what: str, urls: list[str]) -> list[str]:
    """``urls`` if each is an absolute http(s) URL with a host; else :class:`SpiderArgumentError` naming it."""
    for url in urls:
        try:
            parts = urlsplit(url)
            ok = parts.scheme.lower() in SAFE_SCHEMES and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok:
            raise SpiderArgumentError(f"{what}: not an http(s) URL: {url!r}")
    return urls


class GenericSpider(NewsSpider):
    """A spider for any site: it may fetch only from the domains of the URLs it was given (a
    redirect or a link elsewhere is refused and counted)."""

    @classmethod
    def parse_arguments(cls, **kwargs: Any) -> dict[str, Any]:
        """The spider's arguments checked; :class:`SpiderArgumentError` for missing or wrong ones."""
        raise NotImplementedError

    def given(self, urls: list[str]) -> None:
        self.allowed_domains = domains_of(urls)


class ArticleSpider(GenericSpider):
    """Fetches the article URLs given with ``-a urls=U1,U2`` or ``-a file=urls.txt``."""

    name = "article"

    @classmethod
    def parse_arguments(cls, urls: str = "", file: str = "", **kwargs: Any) -> dict[str, Any]:
        found = _split(urls)
        if file:
            path = Path(file)
            if not path.is_file():
                raise SpiderArgumentError(f"article spider: no such file: {file}")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SpiderArgumentError(f"article spider: cannot read {file}: {exc}") from None
            lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
            found += [line for line in lines if line]
        if not found:
            raise SpiderArgumentError("article spider: give URLs with -a urls=U1,U2 or -a file=urls.txt")
        return {"urls": _checked("article spider", found)}

    def __init__(self, urls: str = "", file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = self.parse_arguments(urls, file)["urls"]
        self.given(self.urls)

    def seeds(self) -> Iterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, self.parse_article, errback=self.on_error)


class FeedSpider(GenericSpider):
    """Fetches every article an RSS or Atom feed links to: ``-a feed=URL`` (several: comma-separated)."""

    name = "feed"

    @classmethod
    def parse_arguments(cls, feed: str = "", **kwargs: Any) -> dict[str, Any]:
        feeds = _split(feed)
        if not feeds:
            raise SpiderArgumentError("feed spider: give the feed with -a feed=URL")
        return {"feeds": _checked("feed spider", feeds)}

    def __init__(self, feed: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds = self.parse_arguments(feed)["feeds"]
        self.given(self.feeds)


class SitemapSpider(GenericSpider):
    """Fetches every page a sitemap (index, news sitemap, or robots.txt) lists: ``-a sitemap=URL``."""

    name = "sitemap"

    @classmethod
    def parse_arguments(cls, sitemap: str = "", **kwargs: Any) -> dict[str, Any]:
        sitemaps = _split(sitemap)
        if not sitemaps:
            raise SpiderArgumentError("sitemap spider: give the sitemap with -a sitemap=URL")
        return {"sitemaps": _checked("sitemap spider", sitemaps)}

    def __init__(self, sitemap: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemaps = self.parse_arguments(sitemap)["sitemaps"]
        self.given(self.sitemaps)
