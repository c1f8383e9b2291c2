"""Paywalls end to end: ``scrapy crawl article`` (the real engine, every pipeline, SQLite) against a
loopback site with a free article, a restricted article whose free part is real text, a teaser and
a page that is only a paywall prompt. The articles are stored with ``access`` and ``truncated``; the
teasers are not stored, and are counted."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsclean import stats
from newsclean.store import health

from . import helpers
from .helpers import crawl_cmd, http_server, latest_run, rows, run

pytestmark = pytest.mark.crawl

STORY = [
    *helpers.STORY,
    "The first buses will run every twenty minutes between midnight and five in the morning, it said.",
]
# The free part of a restricted article: real text, NEWSCLEAN_PAYWALL_MIN_WORDS (80) words or more.
FREE_PART = [
    "Bus operators warned on Wednesday that the night network could be delayed by a shortage of drivers.",
    "They said about forty more drivers would be needed before the first routes open in March next year.",
    "Recruitment has been slow since the spring, when wages in the sector fell behind those of lorry drivers.",
    "The council said it would discuss the shortage with the operators and the unions at its next meeting.",
    "A spokesman for the drivers' union said its members were ready to talk but wanted a pay offer in writing.",
    "Passengers' groups said a late start would hurt shift workers most, since many of them have no car.",
]
TEASER = [
    "Storms with damaging winds, large hail and a few tornadoes are expected across the central United "
    "States on Saturday, forecasters said, as a slow-moving system crosses the Plains.",
    "Millions of people from Iowa to Texas are under a severe weather watch through the evening.",
]
PAYWALLED = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paywall"}


def _page(title: str, body: str, **ld: object) -> bytes:
    node = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, **ld}
    script = f'<script type="application/ld+json">{json.dumps(node)}</script>'
    return (
        f"<html lang='en'><head><title>{title}</title>{script}</head>"
        f"<body><main><article><h1>{title}</h1>{body}</article></main></body></html>"
    ).encode()


def _p(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


PAGES = {
    "/free": _page("Night buses for three districts", _p(STORY), isAccessibleForFree=True),
    "/restricted": _page(
        "Night bus plan faces staff shortage",
        f"{_p(FREE_PART)}<div class='paywall'></div>"
        "<div class='paywall-prompt'><p>This article is for subscribers</p><a>Subscribe</a></div>",
        isAccessibleForFree=False,
        hasPart=PAYWALLED,
    ),
    "/teaser": _page(
        "Severe storms across the Plains",
        f"{_p(TEASER)}<div><p>Subscribe to continue reading…</p></div>",
        isAccessibleForFree=False,
    ),
    "/prompt-only": _page(
        "Budget talks resume",
        "<p>Subscribe to continue reading…</p><p>Already a subscriber? Sign in</p>",
        isAccessibleForFree=False,
    ),
}


def _respond(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    if request.path in PAGES:
        return 200, {"Content-Type": "text/html; charset=utf-8"}, PAGES[request.path]
    return 404, {"Content-Type": "text/plain"}, b"not found"


def test_paywalled_site_stores_articles_with_access_and_drops_teasers(tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "store.sqlite"
    with http_server(_respond) as base:
        urls = ",".join(base + path for path in PAGES)
        run(crawl_cmd("article", None, db, urls=urls), run_env)
    stored = rows(db, key="url")
    assert sorted(stored) == [f"{base}/free", f"{base}/restricted"]
    free, restricted = stored[f"{base}/free"], stored[f"{base}/restricted"]
    assert (free["access"], free["truncated"]) == ("free", 0)
    assert (restricted["access"], restricted["truncated"]) == ("restricted", 1)
    assert restricted["text"].split("\n\n") == FREE_PART  # the free part whole, without the prompt
    assert "subscri" not in (free["text"] + restricted["text"]).lower()

    record = latest_run(db)
    counts = json.loads(record["counts"])
    assert counts["dropped/" + stats.PAYWALL_TEASER] == 1
    assert counts["skipped/" + stats.PAYWALL_PROMPT_ONLY] == 1
    assert counts["stored"] == 2
    dropped = json.loads(record["dropped"])
    assert dropped == {stats.PAYWALL_TEASER: 1, stats.PAYWALL_PROMPT_ONLY: 1}


def test_a_site_of_teasers_alarms_as_a_paywall_not_as_a_layout_change() -> None:
    past = [
        {"article_pages": 10, "articles": 10, "new": 10, "updated": 0, "links": 10, "not_modified": 0,
         "skipped": 0, "dropped": {}, "avg_words": 300.0}
        for _ in range(5)
    ]  # fmt: skip
    teasers = {
        "article_pages": 10, "articles": 6, "new": 0, "updated": 0, "links": 10, "not_modified": 0, "skipped": 0,
        "dropped": {stats.PAYWALL_TEASER: 6, stats.PAYWALL_PROMPT_ONLY: 4}, "avg_words": 0.0,
    }  # fmt: skip
    reasons = health.alarms(teasers, past)
    assert len(reasons) == 1
    assert reasons[0].startswith("paywall: all 10 article pages")
    # Some teasers among stored articles move no share: the mix of paid articles is news, not layout.
    mixed = {**past[0], "new": 5, "articles": 10, "dropped": {stats.PAYWALL_TEASER: 5}}
    assert health.alarms(mixed, past) == []
    # A page that is really lost still counts.
    broken = {**past[0], "new": 2, "articles": 2, "dropped": {"no_article_text_found": 8}}
    assert any(r.startswith("dropped 80%") for r in health.alarms(broken, past))
