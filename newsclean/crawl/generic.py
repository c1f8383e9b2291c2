"""Generic spiders for any site: given article URLs, a feed, or a sitemap.

Each page is extracted with the rules of the site its URL belongs to (generic rules for others)::

    scrapy crawl article -a urls=https://a.example/x,https://b.example/y
    scrapy crawl article -a file=urls.txt        # one URL per line, # starts a comment
    scrapy crawl feed -a feed=https://example.com/rss.xml
    scrapy crawl sitemap -a sitemap=https://example.com/sitemap.xml   # or .../robots.txt
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy

from newsclean.crawl.spider import NewsSpider


def _split(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


class ArticleSpider(NewsSpider):
    """Fetches the article URLs given with ``-a urls=U1,U2`` or ``-a file=urls.txt``."""

    name = "article"

    def __init__(self, urls: str = "", file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = _split(urls)
        if file:
            path = Path(file)
            if not path.is_file():
                raise ValueError(f"article spider: no such file: {file}")
            lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
            self.urls += [line for line in lines if line]
        if not self.urls:
            raise ValueError("article spider: give URLs with -a urls=U1,U2 or -a file=urls.txt")

    def seeds(self) -> Iterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, self.parse_article, errback=self.on_error)


class FeedSpider(NewsSpider):
    """Fetches every article an RSS or Atom feed links to: ``-a feed=URL`` (several: comma-separated)."""

    name = "feed"

    def __init__(self, feed: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds = _split(feed)
        if not self.feeds:
            raise ValueError("feed spider: give the feed with -a feed=URL")


class SitemapSpider(NewsSpider):
    """Fetches every page a sitemap (index, news sitemap, or robots.txt) lists: ``-a sitemap=URL``."""

    name = "sitemap"

    def __init__(self, sitemap: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemaps = _split(sitemap)
        if not self.sitemaps:
            raise ValueError("sitemap spider: give the sitemap with -a sitemap=URL")
