"""The breakage alarm's rules, on run records."""

from __future__ import annotations

from typing import Any

from newsclean.store.health import alarms


def _run(article_pages: int = 10, articles: int = 10, dropped: int = 0, avg_words: float = 500, **kw: Any) -> dict:
    run = {"article_pages": article_pages, "articles": articles, "dropped": {"too_short": dropped} if dropped else {},
           "avg_words": avg_words, "links": 12, "not_modified": 0, "skipped": 2}  # fmt: skip
    return {**run, **kw}


HISTORY = [_run(dropped=1), _run(dropped=0), _run(dropped=1, avg_words=520), _run(avg_words=480)]


def test_a_usual_run_raises_nothing() -> None:
    assert alarms(_run(dropped=1, avg_words=510), HISTORY) == []


def test_no_article_in_the_pages_fetched() -> None:
    assert alarms(_run(articles=0, dropped=10), []) == ["no article found in 10 article pages fetched"]


def test_no_links_at_all_but_an_unchanged_feed_is_fine() -> None:
    empty = _run(article_pages=0, articles=0, links=0, skipped=0)
    assert alarms(empty, HISTORY) == ["no article links found in its feeds, sitemaps or listing pages"]
    assert alarms({**empty, "not_modified": 2}, HISTORY) == []


def test_dropped_share_far_from_history() -> None:
    assert alarms(_run(articles=4, dropped=6), HISTORY) == ["dropped 60% of article pages, usually 5%"]


def test_text_length_far_from_history() -> None:
    assert alarms(_run(avg_words=120), HISTORY) == ["average text length 120 words, usually 500"]
    assert alarms(_run(avg_words=1200), HISTORY) == ["average text length 1200 words, usually 500"]


def test_too_little_history_judges_only_the_obvious() -> None:
    assert alarms(_run(avg_words=120), HISTORY[:2]) == []
    assert alarms(_run(article_pages=3, articles=1, dropped=2), HISTORY) == []
