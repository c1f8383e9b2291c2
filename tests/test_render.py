"""JavaScript pages: a site that declares ``render`` has the pages in which extraction finds no
article rendered again in the real headless browser (Debian's Chromium, driven by scrapy-playwright),
under the crawl's rules; without the browser such pages are counted, never crashed on.

The loopback site is a throw-away ``spiders`` package put first on ``PYTHONPATH`` (the project's own
sites declare no rendering): its article pages are empty shells whose paragraphs come from a
same-origin script.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newsclean import config, stats
from newsclean.crawl import render
from newsclean.crawl.generic import ArticleSpider
from newsclean.crawl.sites import SITE_SPIDERS
from newsclean.crawl.spider import NewsSpider
from newsclean.sites import Render, Site
from tests.helpers import crawl_cmd, http_server, latest_run, rows, run

PARAGRAPHS = [
    "The city council voted on Tuesday to extend the night bus network to the three districts that "
    "lost their last late service when the tram line closed for repairs in the spring.",
    "Council members said the new routes would run every twenty minutes between midnight and five in "
    "the morning, and that the cost would be met from the transport budget without raising fares.",
    "Residents of the eastern districts had collected more than four thousand signatures asking for "
    "the service, saying that shift workers were walking home for an hour or more after work.",
    "The transport department expects the first buses to run before the end of next month, once the "
    "drivers have been hired and the timetables published at every stop along the routes.",
]

ARTICLE_SHELL = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Night buses return to the eastern districts</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="2026-11-30T09:00:00Z">
</head><body><header><a href="/">City News</a></header>
<main><h1>Night buses return to the eastern districts</h1><article id="story"></article></main>
<script src="/static/story.js"></script>
<script>
  // Requests a reader's browser would make, that the crawler's must not: robots.txt forbids /private/,
  // the other host is off the site, and pictures are never needed for text.
  fetch("/private/track.json").catch(() => {});
  fetch("OFFSITE/offsite-probe.json").catch(() => {});
  const img = new Image(); img.src = "/static/photo.jpg";
</script>
</body></html>"""

STORY_JS = "\n".join(
    [
        "const story = document.getElementById('story');",
        f"for (const text of {json.dumps(PARAGRAPHS)}) {{",
        "  const p = document.createElement('p'); p.textContent = text; story.appendChild(p);",
        "}",
    ]
)

# A shell whose script never comes: the page never shows `article p`.
NEVER_SHELL = ARTICLE_SHELL.replace('<script src="/static/story.js"></script>', "")
# A shell whose script takes longer to arrive than the crawl's DOWNLOAD_TIMEOUT: the navigation never ends.
SLOW_SHELL = ARTICLE_SHELL.replace("/static/story.js", "/static/slow.js")
# A shell whose script writes 300 KB of text (one paragraph): over the crawl's DOWNLOAD_MAXSIZE once rendered.
HUGE_SHELL = ARTICLE_SHELL.replace(
    '<script src="/static/story.js"></script>',
    "<script>const p = document.createElement('p'); p.textContent = 'word '.repeat(60000);"
    " document.getElementById('story').appendChild(p);</script>",
)
PLAIN_ARTICLE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Library hours extended</title>'
    '<meta property="og:type" content="article"></head><body><main><h1>Library hours extended</h1><article>'
    + "".join(f"<p>{p.replace('night bus', 'library')}</p>" for p in PARAGRAPHS)
    + "</article></main></body></html>"
)
ROBOTS = "User-agent: *\nDisallow: /private/\n"
TIMEOUT = 10  # the crawl's DOWNLOAD_TIMEOUT, seconds (room for a loaded machine)
SLOW = 15  # seconds the slow script takes

SITE_MODULE = """
from newsclean.sites import Render, Site

SITE = Site(
    name="jsnews",
    domains=("127.0.0.1",),
    article_url=r"/news/",
    render=Render(wait_for="#story p", timeout=3.0),
)
"""


class Web:
    """The loopback site, and every path the server was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.agents: dict[str, str] = {}  # path -> the User-Agent it was asked with
        self.base = ""

    def respond(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        path = handler.path
        self.paths.append(path)
        self.agents[path] = handler.headers.get("User-Agent", "")
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS.encode()
        if path == "/static/slow.js":
            time.sleep(SLOW)
            return 200, {"Content-Type": "application/javascript"}, STORY_JS.encode()
        if path == "/static/story.js":
            return 200, {"Content-Type": "application/javascript"}, STORY_JS.encode()
        offsite = self.base.replace("127.0.0.1", "localhost")
        pages = {
            "/news/night-buses": ARTICLE_SHELL,
            "/news/never": NEVER_SHELL,
            "/news/huge": HUGE_SHELL,
            "/news/slow": SLOW_SHELL,
            "/news/library": PLAIN_ARTICLE,
        }
        if path in pages:
            return 200, html, pages[path].replace("OFFSITE", offsite).encode()
        return 404, html, b"<html><body>not found</body></html>"


@pytest.fixture
def site_env(tmp_path: Path, run_env: dict[str, str]) -> dict[str, str]:
    """The environment of a crawl whose only known site is the loopback ``jsnews``, which renders."""
    package = tmp_path / "sites" / "spiders"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "jsnews.py").write_text(textwrap.dedent(SITE_MODULE))
    return {**run_env, "PYTHONPATH": str(tmp_path / "sites")}


@pytest.fixture
def web() -> Iterator[Web]:
    site = Web()
    with http_server(site.respond) as base:
        site.base = base
        yield site


def crawl(web: Web, db: Path, env: dict[str, str], *settings: str) -> tuple[dict[str, int], str]:
    """The generic article spider on the site's four pages: the run's counts and the crawl's log."""
    urls = ",".join(f"{web.base}/news/{name}" for name in ("night-buses", "never", "huge", "slow", "library"))
    limits = ("DOWNLOAD_MAXSIZE=100000", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "NEWSCLEAN_WORKERS=0")
    cmd = crawl_cmd("article", None, db, *limits, *settings, urls=urls)
    proc = run(cmd, env, timeout=120)
    return json.loads(latest_run(db)["counts"]), proc.stderr


@pytest.mark.crawl
def test_a_javascript_page_is_rendered_under_the_crawls_rules(
    tmp_path: Path, web: Web, site_env: dict[str, str]
) -> None:
    assert shutil.which("chromium"), "Chromium is not installed: .ci/run installs it (apt-get install chromium)"
    db = tmp_path / "store.sqlite"
    counts, log = crawl(web, db, site_env)
    stored = {row["url"].rsplit("/", 1)[1]: row for row in rows(db).values()}
    # The shell's paragraphs, written by its script, are the stored text; provenance says it was rendered.
    assert set(stored) == {"night-buses", "library"}, log[-3000:]
    rendered = stored["night-buses"]
    assert rendered["text"] == "\n\n".join(PARAGRAPHS)
    assert rendered["method"].endswith("+rendered")
    assert rendered["title"] == "Night buses return to the eastern districts"
    # A page whose text is in its HTML is never rendered.
    assert not stored["library"]["method"].endswith("+rendered")
    # Four pages went to the browser: one rendered; one never showed its paragraphs in the site's
    # 3 s and one never finished loading within DOWNLOAD_TIMEOUT (both failed, the crawl went on);
    # one rendered over DOWNLOAD_MAXSIZE (dropped).
    name = stats.PREFIX
    assert counts[stats.RENDER_PAGES.removeprefix(name)] == 2
    assert counts[stats.RENDER_MS.removeprefix(name)] > 0
    assert counts[stats.RENDER_FAILED.removeprefix(name)] == 3
    assert counts[stats.RENDER_TOO_LARGE.removeprefix(name)] == 1
    assert stats.RENDER_NEEDS.removeprefix(name) not in counts
    # The pages the browser could not give count as pages without an article, as when fetched.
    assert sum(v for k, v in counts.items() if k.startswith("skipped/")) == 3
    assert "rendering failed (TimeoutError)" in log
    # The browser's own requests under the crawl's rules, checked at the server: what robots.txt
    # forbids, what is off the site and pictures never arrived; the page's own script did.
    assert "/static/story.js" in web.paths
    # The browser says what it is: the crawl's User-Agent, on the page and on its script.
    assert web.agents["/static/story.js"].startswith("newsclean/"), web.agents
    assert web.agents["/news/night-buses"].startswith("newsclean/"), web.agents
    assert not [p for p in web.paths if p.startswith(("/private/", "/offsite-probe", "/static/photo"))], web.paths
    blocked = stats.RENDER_BLOCKED.removeprefix(name)
    assert counts[blocked + "robots"] >= 1
    assert counts[blocked + "offsite"] >= 1
    assert counts[blocked + "resource"] >= 1


@pytest.mark.crawl
def test_without_the_browser_pages_are_counted_as_needing_it(
    tmp_path: Path, web: Web, site_env: dict[str, str]
) -> None:
    db = tmp_path / "store.sqlite"
    counts, log = crawl(web, db, site_env, f"NEWSCLEAN_BROWSER={tmp_path / 'no-such-chromium'}")
    stored = {row["url"].rsplit("/", 1)[1] for row in rows(db).values()}
    assert stored == {"library"}
    # The four shells: counted as needing the browser, and as pages without an article.
    assert counts[stats.RENDER_NEEDS.removeprefix(stats.PREFIX)] == 4
    assert stats.RENDER_PAGES.removeprefix(stats.PREFIX) not in counts
    assert log.count("are not rendered") == 1
    assert "no-such-chromium is not an executable file" in log
    # Nothing of a browser was started: no page asked for its script.
    assert "/static/story.js" not in web.paths


def test_only_crawls_that_may_render_get_the_browser() -> None:
    # The project's sites declare no rendering: their crawls and the generic ones run as before.
    for spider in [*SITE_SPIDERS.values(), ArticleSpider]:
        settings = Settings({"DOWNLOAD_HANDLERS": {"file": None}})
        spider.update_settings(settings)
        assert not render.handler_installed(settings), spider.name
    # A site that renders gets the handler, with the browser found and the crawl's timeout.
    site = type("JsSpider", (NewsSpider,), {"name": "js", "site": Site(name="js", render=Render())})
    settings = Settings({"DOWNLOAD_TIMEOUT": 7})
    site.update_settings(settings)
    assert render.unavailable(settings) is None, "Chromium is not installed: .ci/run installs it"
    assert render.handler_installed(settings)
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 7000
    assert settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")["executable_path"] == "/usr/lib/chromium/chromium"
    # Not when the browser is missing, or switched off.
    for value in ("/no/such/chromium", "off"):
        settings = Settings({config.BROWSER.name: value})
        site.update_settings(settings)
        assert not render.handler_installed(settings)
        assert render.unavailable(settings)


def test_render_declarations_are_checked() -> None:
    assert Render().when == "no_article"
    with pytest.raises(ValueError, match="when="):
        Render(when="sometimes")
    with pytest.raises(ValueError, match="timeout="):
        Render(timeout=0)


def _parsed(render_as: Render, page: bytes, ready: bool) -> tuple[list[Any], NewsSpider]:
    """What a site spider's ``parse_article`` gives for ``page`` (in process, extraction inline)."""
    site = Site(name="jsunit", domains=("news.example",), render=render_as)
    cls = type("JsUnitSpider", (NewsSpider,), {"name": "jsunit", "site": site, "allowed_domains": ["news.example"]})
    spider = cls.from_crawler(get_crawler(cls, {"NEWSCLEAN_WORKERS": 0}))
    spider.render_ready = ready
    response = HtmlResponse(
        url="https://news.example/news/a", body=page, request=scrapy.Request("https://news.example/news/a")
    )

    async def collect() -> list[Any]:
        return [r async for r in spider.parse_article(response)]

    return asyncio.run(collect()), spider


def test_which_pages_go_to_the_browser() -> None:
    article, shell = PLAIN_ARTICLE.encode(), ARTICLE_SHELL.encode()
    # no_article: a page with its article is kept as fetched; a shell goes to the browser.
    (item,), _ = _parsed(Render(), article, ready=True)
    assert item.method == "trafilatura"
    (request,), spider = _parsed(Render(wait_for="#story p", timeout=4), shell, ready=True)
    assert isinstance(request, scrapy.Request)
    assert request.meta["playwright"] is True
    assert request.meta[render.META]["wait_for"] == "#story p"
    assert request.callback == spider.parse_article
    assert request.dont_filter
    # A page whose text is too short to keep (a teaser) goes to the browser too.
    teaser = ARTICLE_SHELL.replace(
        '<article id="story"></article>', f'<article id="story"><p>{PARAGRAPHS[0][:60]}...</p></article>'
    )
    (request,), _ = _parsed(Render(), teaser.encode(), ready=True)
    assert request.meta[render.META]["plain_reason"] == "too_short"
    # always: every page goes to the browser, the one with its article too.
    (request,), _ = _parsed(Render(when="always"), article, ready=True)
    assert request.meta["playwright"] is True
    # Without the browser: the article as fetched is kept (and the page counted as needing it).
    (item,), spider = _parsed(Render(when="always"), article, ready=False)
    assert item.method == "trafilatura"
    assert spider.crawler.stats.get_value(stats.RENDER_NEEDS) == 1
