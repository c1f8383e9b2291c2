"""The site-health page, opened in a real headless browser (Debian's Chromium, driven by Playwright):
no console error, nothing fetched from anywhere, every plot drawn."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from newsclean import store
from newsclean.article import Article
from newsclean.extraction import extract_article
from newsclean.fixtures import load_fixtures
from newsclean.store import report

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "Chromium is not installed: .ci/run installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def make_store(path: Path) -> None:
    """A store with the fixtures' articles and a history of runs for two sites, the last one alarming."""
    with closing(store.connect(path)) as conn:
        for fixture in load_fixtures():
            # Drift fixtures (drift_*) are other fixtures' articles in a changed layout: copies, left out.
            if fixture.kind == "article" and not fixture.body_path.name.startswith("drift_"):
                article = extract_article(fixture.body(), fixture.url)
                assert article is not None
                store.save_article(conn, dataclasses.asdict(article))
        for day in range(1, 9):
            for site, pages in (("themoscowtimes", 40), ("trtworld", 30)):
                run_id = store.start_run(conn, site)
                broken = site == "trtworld" and day == 8
                values: dict[str, Any] = {
                    "pages_fetched": pages + 5,
                    "new": 0 if broken else pages - 8 - day % 3,
                    "updated": day % 2,
                    "skipped": 3,
                    "dropped": {"no_article": pages} if broken else {"too_short": 2 + day % 3, "not_article": 3},
                    "errors": {"http_404": 1},
                    "article_pages": pages,
                    "articles": 0 if broken else pages - 5 - day % 3,
                    "links": pages,
                    "avg_words": 0.0 if broken else 540.0 + 20 * (day % 4),
                    "rules_missed": pages if broken else day % 3,
                }
                if broken:
                    values["alarm"] = f"no article found in {pages} article pages fetched"
                store.finish_run(conn, run_id, values)
                conn.execute("UPDATE runs SET start = ? WHERE id = ?", (f"2026-11-{day:02d}T06:00:00+00:00", run_id))
                conn.commit()


def test_the_report_renders_in_a_browser_with_no_error_and_nothing_fetched(browser: Browser, tmp_path: Path) -> None:
    make_store(tmp_path / "store.sqlite")
    with closing(store.connect(tmp_path / "store.sqlite")) as conn:
        html = report.build(conn)
    page_path = tmp_path / "report.html"
    page_path.write_text(html, encoding="utf-8")

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    messages: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")

    assert [m for m in messages if m.startswith(("error", "warning", "pageerror"))] == []
    assert requests == [page_path.as_uri()]  # self-contained: nothing else loaded
    assert page.title() == "newsclean: site health"
    # Every site with runs has its four plots, drawn with a real size.
    for site in ("themoscowtimes", "trtworld"):
        plots = page.locator(f"#site-{site} svg")
        assert plots.count() == 4
        for i in range(4):
            box = plots.nth(i).bounding_box()
            assert box is not None
            assert box["width"] > 200
            assert box["height"] > 50
        lines = page.locator(f"#site-{site} svg polyline.series")
        assert lines.count() == 5  # articles found, new; words; rules missed, dropped
        assert page.locator(f"#site-{site} svg rect.bar").count() >= 8
        first_line = lines.nth(0).bounding_box()
        assert first_line is not None
        assert first_line["width"] > 200  # the line spans the eight runs
    # The summary: the broken site's rules missed every page of its last run.
    summary = page.locator("table").first.locator("tr", has_text="trtworld").locator("td")
    assert [summary.nth(i).inner_text() for i in range(1, 5)] == ["0", "100%", "0", "100%"]
    # The last run's alarm, at the top and in its site's section; latest articles linked.
    assert "trtworld: no article found in 30 article pages fetched" in page.inner_text("ul")
    assert page.locator("#site-trtworld .alarm").count() >= 1
    links = page.locator("#site-theguardian table a")
    guardian = [f for f in load_fixtures(site="theguardian") if f.kind == "article"]
    assert links.count() == len([f for f in guardian if not f.body_path.name.startswith("drift_")])
    assert all(
        links.nth(i).get_attribute("href").startswith("https://www.theguardian.com/") for i in range(links.count())
    )
    # The wire copy shows its number of copies.
    row = page.locator("#site-theguardian tr", has_text="Russian wheat exports fall")
    assert row.locator("td").last.inner_text() == "2"


def test_page_text_is_escaped(tmp_path: Path) -> None:
    with closing(store.connect(tmp_path / "store.sqlite")) as conn:
        article = Article(
            url="javascript:alert(1)", canonical_url="https://x.example/1", site="x", title="<script>alert(1)</script>"
        )
        store.save_article(conn, dataclasses.asdict(article))
        html = report.build(conn)
    assert "<script>alert" not in html
    assert "javascript:" not in html
