"""Spiders, unit level: URL patterns and the requests each feed, sitemap and listing fixture yields."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from newsclean import stats
from newsclean.crawl.generic import ArticleSpider, FeedSpider, SitemapSpider
from newsclean.crawl.sites import SITE_SPIDERS as SPIDERS
from newsclean.crawl.spider import NewsSpider
from newsclean.fixtures import Fixture, fixture_id, load_fixtures
from newsclean.registry import known_sites

FIXTURES = load_fixtures()


def _spider(cls: type[NewsSpider], **kwargs: str) -> NewsSpider:
    return cls.from_crawler(get_crawler(cls, {"NEWSCLEAN_WORKERS": 0}), **kwargs)


async def _collect(results: AsyncIterator[Any]) -> list[Any]:
    return [r async for r in results]


def _response(fixture: Fixture) -> Response:
    kind = {"feed": XmlResponse, "sitemap": XmlResponse, "robots": TextResponse}.get(fixture.kind, HtmlResponse)
    return kind(url=fixture.url, body=fixture.body(), encoding="utf-8", headers={"Content-Type": fixture.content_type})


def _split(requests: list[scrapy.Request], spider: NewsSpider) -> tuple[list[str], list[str]]:
    articles = [r.url for r in requests if r.callback == spider.parse_article]
    others = [r.url for r in requests if r.callback != spider.parse_article]
    return articles, others


_id = fixture_id


def test_every_declared_site_has_a_spider_made_of_its_declaration() -> None:
    assert {"themoscowtimes", "trtworld", "theguardian"} <= set(SPIDERS)
    for name, site in known_sites().items():
        spider = SPIDERS[name]
        assert (spider.name, spider.site, spider.allowed_domains) == (name, site, list(site.domains))
        assert (spider.feeds, spider.sitemaps, spider.article_url) == (site.feeds, site.sitemaps, site.article_url)


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.kind in ("article", "not_article", "http_error")], ids=_id
)
def test_article_url_pattern(fixture: Fixture) -> None:
    spider = _spider(SPIDERS[fixture.site])
    # A 404 fixture stands for an article URL that has gone; a not_article page must not look like one,
    # unless the site gives other pages the same URL shape (its sidecar says so, and why).
    expected = fixture.meta.get("matches_article_url", fixture.kind != "not_article")
    assert spider.is_article(fixture.url) is expected


@pytest.mark.parametrize(
    "fixture", [f for f in FIXTURES if f.kind in ("feed", "sitemap", "listing", "robots")], ids=_id
)
def test_non_article_urls_are_not_articles(fixture: Fixture) -> None:
    assert not _spider(SPIDERS[fixture.site]).is_article(fixture.url)


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.kind in ("feed", "sitemap", "listing")], ids=_id)
def test_links_followed(fixture: Fixture) -> None:
    spider = _spider(SPIDERS[fixture.site])
    parse = {"feed": spider.parse_feed, "sitemap": spider.parse_sitemap, "listing": spider.parse_listing}[fixture.kind]
    articles, others = _split(list(parse(_response(fixture))), spider)
    assert articles == fixture.expected["articles"]
    if "sitemaps" in fixture.expected:
        assert others == fixture.expected["sitemaps"]


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.kind == "robots"], ids=_id)
def test_robots_txt_leads_to_sitemaps(fixture: Fixture) -> None:
    spider = _spider(SPIDERS[fixture.site])
    requests = list(spider.parse_sitemap(_response(fixture)))
    assert requests, "robots.txt names no sitemap"
    assert all(r.callback == spider.parse_sitemap for r in requests)


def test_non_html_response_is_skipped_and_counted() -> None:
    spider = _spider(SPIDERS["themoscowtimes"])
    response = Response(url="https://www.themoscowtimes.com/2024/12/27/x-a1", body=b"%PDF-1.4")
    assert asyncio.run(_collect(spider.parse_article(response))) == []
    assert spider.crawler.stats.get_value(stats.skipped("not_html")) == 1


def test_non_article_page_is_skipped_with_reason() -> None:
    spider = _spider(SPIDERS["themoscowtimes"])
    response = HtmlResponse(url="https://www.themoscowtimes.com/2024/12/27/x-a1", body=b"<html><body></body></html>")
    assert asyncio.run(_collect(spider.parse_article(response))) == []
    assert list(stats.under(spider.crawler.stats.get_stats(), stats.SKIPPED)) == ["no_article_body"]


def test_article_spider_takes_urls_and_file(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("# saved links\nhttps://b.example/2\n\nhttps://c.example/3  # third\n", encoding="utf-8")
    spider = _spider(ArticleSpider, urls="https://a.example/1", file=str(listing))
    urls = [r.url for r in spider.seeds()]
    assert urls == ["https://a.example/1", "https://b.example/2", "https://c.example/3"]
    assert all(r.callback == spider.parse_article for r in spider.seeds())


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (ArticleSpider, {}, "give URLs"),
        (ArticleSpider, {"file": "/nonexistent/urls.txt"}, "no such file"),
        (FeedSpider, {}, "-a feed=URL"),
        (SitemapSpider, {}, "-a sitemap=URL"),
    ],
)
def test_generic_spiders_refuse_missing_input(cls: type[NewsSpider], kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _spider(cls, **kwargs)


def test_feed_spider_follows_every_entry_with_site_rules_by_url() -> None:
    spider = _spider(FeedSpider, feed="https://news.example/feed.xml")
    assert spider.site_name() is None  # rules are picked per page, by domain, where the page is extracted
    body = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
      <entry><title>A</title><link href="/a/1"/><updated>2024-12-30T10:00:00Z</updated></entry>
      <entry><title>B</title><link rel="alternate" href="https://news.example/b/2"/></entry></feed>"""
    articles, _ = _split(list(spider.parse_feed(XmlResponse(url="https://news.example/feed.xml", body=body))), spider)
    assert articles == ["https://news.example/a/1", "https://news.example/b/2"]
    assert spider.crawler.stats.get_value(stats.PAGES_FEED) == 1


def test_a_feed_listed_as_a_sitemap_is_read_as_a_feed() -> None:
    spider = _spider(SitemapSpider, sitemap="https://news.example/feed.xml")
    body = b"<rss><channel><item><link>https://news.example/a/1</link></item></channel></rss>"
    requests = list(spider.parse_sitemap(XmlResponse(url="https://news.example/feed.xml", body=body)))
    assert [r.url for r in requests] == ["https://news.example/a/1"]
    assert spider.crawler.stats.get_value(stats.PAGES_FEED) == 1
    assert spider.crawler.stats.get_value(stats.PAGES_SITEMAP) is None


def test_sitemap_spider_reads_index_and_news_sitemap() -> None:
    spider = _spider(SitemapSpider, sitemap="https://news.example/sitemap.xml")
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/sitemap-news.xml</loc></sitemap></sitemapindex>"""
    requests = list(spider.parse_sitemap(XmlResponse(url="https://news.example/sitemap.xml", body=index)))
    assert [(r.url, r.callback) for r in requests] == [("https://news.example/sitemap-news.xml", spider.parse_sitemap)]
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://news.example/a/1</loc><news:news><news:title>A</news:title>
      <news:publication_date>2024-12-30</news:publication_date></news:news></url></urlset>"""
    requests = list(spider.parse_sitemap(XmlResponse(url="https://news.example/sitemap-news.xml", body=news)))
    assert [r.url for r in requests] == ["https://news.example/a/1"]
    assert requests[0].meta["newsclean_entry"].published == "2024-12-30"


def test_failed_requests_are_counted_by_kind() -> None:
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    spider = _spider(SPIDERS["trtworld"])
    response = HtmlResponse(url="https://www.trtworld.com/article/ffffffffffff", status=404, body=b"")
    spider.on_error(Failure(HttpError(response)))
    spider.on_error(Failure(TimeoutError("slow")))
    assert stats.under(spider.crawler.stats.get_stats(), stats.ERRORS) == {"http_404": 1, "TimeoutError": 1}
