"""The rules that keep a crawl safe and its store clean, as plain functions: which URLs may be
requested, when a site asked to be left alone, and which pages are not articles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsclean.crawl.politeness import retry_after_seconds
from newsclean.crawl.safety import domains_of, refusal, site_domain
from newsclean.crawl.worker import extract_page
from newsclean.extraction.core import extract
from newsclean.fixtures import load_fixtures
from newsclean.pagekind import page_kind

from .faultserver import article_html, section_front_html, soft_404_html


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.example.com/news/1", None),
        ("http://example.com/x", None),
        ("HTTPS://EXAMPLE.COM/x", None),
        ("file:///etc/passwd", "unsafe_scheme"),
        ("data:text/html,<p>x</p>", "unsafe_scheme"),
        ("ftp://example.com/a", "unsafe_scheme"),
        ("javascript:alert(1)", "unsafe_scheme"),
        ("mailto:a@example.com", "unsafe_scheme"),
        ("s3://bucket/key", "unsafe_scheme"),
        ("/relative/path", "unsafe_scheme"),
        ("http://[::1", "bad_url"),
        ("https://evil.example.org/x", "offsite"),
        ("https://notexample.com/x", "offsite"),
        ("https://example.com.evil.org/x", "offsite"),
        ("https://example.com/" + "a" * 2100, "url_too_long"),
    ],
)
def test_only_http_on_the_allowed_domains_within_the_length_limit(url: str, kind: str | None) -> None:
    assert refusal(url, ["example.com"], 2083) == kind


def test_generic_spiders_allow_the_site_domains_of_what_they_were_given() -> None:
    assert site_domain("https://feeds.bbc.co.uk/news/rss.xml") == "bbc.co.uk"
    assert site_domain("http://127.0.0.1:8080/feed.xml") == "127.0.0.1"
    assert site_domain("http://localhost/x") == "localhost"
    assert domains_of(["https://www.example.com/a", "https://example.com/b", "https://x.example.org/"]) == [
        "example.com",
        "example.org",
    ]
    assert refusal("https://www.bbc.co.uk/news/1", domains_of(["https://feeds.bbc.co.uk/rss"])) is None
    assert refusal("https://www.itv.co.uk/news/1", domains_of(["https://feeds.bbc.co.uk/rss"])) == "offsite"


def test_retry_after_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("2") == 2.0
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0  # in the past: no wait
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("") is None


def test_no_article_fixture_is_turned_away() -> None:
    articles = [f for f in load_fixtures() if f.kind == "article"]
    assert articles
    for fixture in articles:
        result = extract(fixture.body(), fixture.url)
        assert result.article is not None, fixture.path
        assert page_kind(fixture.body().decode("utf-8"), result.article) is None, fixture.path


def test_a_section_front_and_a_soft_404_are_turned_away_by_what_they_are() -> None:
    for html, reason in ((section_front_html(), "listing"), (soft_404_html(), "soft_404")):
        plain = extract(html, "https://news.example.com/world")
        assert plain.article is not None  # extraction alone would store it
        result = extract_page(html.encode(), "https://news.example.com/world", None, "utf-8")
        assert result.article is None
        assert result.reason == reason
    ok = extract_page(article_html("kept").encode(), "https://news.example.com/a/1", None, "utf-8")
    assert ok.article is not None


@pytest.mark.parametrize(
    "title",
    ["Page not found | Example", "404 - Example News", "Error 404", "Sorry, we can't find that page",
     "This article is no longer available", "The page you were looking for doesn't exist"],
)  # fmt: skip
def test_error_titles(title: str) -> None:
    from newsclean.article import Article

    article = Article(url="https://x.example/a", title=title, text="Try the search box. " * 10)
    assert page_kind(f"<html><head><title>{title}</title></head><body><p>x</p></body></html>", article) == "soft_404"


@pytest.mark.parametrize(
    "title",
    ["404 migrants rescued off the coast", "Police found the missing painting", "A page of history is turned"],
)  # fmt: skip
def test_news_titles_are_not_error_titles(title: str) -> None:
    from newsclean.article import Article

    article = Article(url="https://x.example/a", title=title, text="The council met on Tuesday. " * 10)
    assert page_kind(f"<html><head><title>{title}</title></head><body><p>x</p></body></html>", article) is None


def test_the_sites_listing_and_404_pages_are_turned_away_without_their_rules() -> None:
    # The shipped section fronts and error pages, at a URL no site's rules cover: the generic path
    # alone finds "articles" in them (menus and headlines, an apology); the page kind check does not.
    pages = [f for f in load_fixtures() if f.kind in ("listing", "http_error")]
    assert len(pages) >= 5
    for fixture in pages:
        url = "https://unknown.example/" + fixture.url.split("/", 3)[3]
        result = extract_page(fixture.body(), url, None, None)
        if extract(fixture.body(), url).article is not None:
            assert result.article is None, fixture.url
            assert result.reason == ("listing" if fixture.kind == "listing" else "soft_404"), fixture.url


def test_a_crawl_opens_no_port_that_runs_code() -> None:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("newsclean.settings", priority="project")
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
