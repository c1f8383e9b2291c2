"""Item pipelines: each drop counted by reason; SQLite rows whole, one per canonical URL."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from newsclean import stats
from newsclean.article import ARTICLE_FIELDS, Article
from newsclean.crawl.pipelines import DedupePipeline, LanguagePipeline, SQLitePipeline, ValidationPipeline
from newsclean.urls import canonicalize

TEXT = " ".join(["word"] * 40)


def _article(**kwargs: Any) -> Article:
    base = Article(url="https://news.example/a?utm_source=x", title="A title", text=TEXT, language="en", site="example")
    article = replace(base, **kwargs)
    article.canonical_url = article.canonical_url or canonicalize(article.url)  # as extraction sets it
    return article.finish()


def _pipeline(cls: type, **settings: Any) -> Any:
    return cls.from_crawler(get_crawler(settings_dict={"NEWSCLEAN_MIN_WORDS": 30, **settings}))


def _dropped(pipeline: Any) -> dict[str, int]:
    values = pipeline.crawler.stats.get_stats()
    return stats.under(values, stats.DROPPED)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_article(text=""), "empty_text"),
        (_article(text="too few words here"), "too_short"),
        (_article(title=""), "missing_title"),
    ],
)
def test_validation_drops_by_reason(item: Article, reason: str) -> None:
    pipeline = _pipeline(ValidationPipeline)
    with pytest.raises(DropItem, match=reason):
        pipeline.process_item(item)
    assert _dropped(pipeline) == {reason: 1}


def test_validation_thresholds_are_settings() -> None:
    short = _article(text="four words of text")
    assert _pipeline(ValidationPipeline, NEWSCLEAN_MIN_WORDS=4).process_item(short) is short
    untitled = _article(title="")
    assert _pipeline(ValidationPipeline, NEWSCLEAN_REQUIRE_TITLE=False).process_item(untitled) is untitled


@pytest.mark.parametrize("cls", [ValidationPipeline, LanguagePipeline, DedupePipeline, SQLitePipeline])
def test_every_pipeline_can_be_switched_off(cls: type) -> None:
    with pytest.raises(NotConfigured):
        _pipeline(cls, **{cls.switch.name: False})


def test_language_allow_list() -> None:
    pipeline = _pipeline(LanguagePipeline, NEWSCLEAN_LANGUAGES=["en", "ru"])
    assert pipeline.process_item(_article(language="ru"))
    with pytest.raises(DropItem):
        pipeline.process_item(_article(language="de"))
    assert _dropped(pipeline) == {"language_not_allowed": 1}
    anything = _pipeline(LanguagePipeline)
    assert anything.process_item(_article(language="de"))


def test_dedupe_by_canonical_url_and_by_content() -> None:
    pipeline = _pipeline(DedupePipeline)
    first = pipeline.process_item(_article())
    assert first.canonical_url == "https://news.example/a"
    with pytest.raises(DropItem, match="duplicate_url"):
        pipeline.process_item(_article(url="https://news.example/a?fbclid=1", text=TEXT + " more"))
    with pytest.raises(DropItem, match="duplicate_content"):
        pipeline.process_item(_article(url="https://news.example/b"))
    assert _dropped(pipeline) == {"duplicate_url": 1, "duplicate_content": 1}


def _store(tmp_path: Path) -> tuple[SQLitePipeline, Path]:
    db = tmp_path / "sub" / "store.sqlite"
    pipeline = _pipeline(SQLitePipeline, NEWSCLEAN_DB=str(db))
    pipeline.open_spider()
    return pipeline, db


def test_sqlite_columns_are_the_article_fields(tmp_path: Path) -> None:
    pipeline, db = _store(tmp_path)
    pipeline.close_spider()
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    assert columns == list(ARTICLE_FIELDS)


def test_sqlite_one_row_per_canonical_url(tmp_path: Path) -> None:
    pipeline, db = _store(tmp_path)
    pipeline.process_item(_article(canonical_url="https://news.example/a", authors=["Ann Lee", "Bo Kim"]))
    pipeline.process_item(_article(canonical_url="https://news.example/a", title="Updated title"))
    pipeline.process_item(_article(canonical_url="https://news.example/b"))
    pipeline.close_spider()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT canonical_url, title, authors FROM articles ORDER BY canonical_url").fetchall()
    assert rows == [("https://news.example/a", "Updated title", "[]"), ("https://news.example/b", "A title", "[]")]
    assert pipeline.crawler.stats.get_value(stats.STORED) == 3


def test_sqlite_lists_are_json(tmp_path: Path) -> None:
    pipeline, db = _store(tmp_path)
    pipeline.process_item(_article(canonical_url="https://news.example/a", authors=["Ann Lee"], tags=["Кремль"]))
    pipeline.close_spider()
    with sqlite3.connect(db) as conn:
        authors, tags = conn.execute("SELECT authors, tags FROM articles").fetchone()
    assert json.loads(authors) == ["Ann Lee"]
    assert json.loads(tags) == ["Кремль"]


def test_sqlite_failed_write_leaves_no_row(tmp_path: Path) -> None:
    pipeline, db = _store(tmp_path)
    bad = _article(canonical_url="https://news.example/a", title=None)  # NOT NULL column
    with pytest.raises(sqlite3.IntegrityError):
        pipeline.process_item(bad)
    pipeline.process_item(_article(canonical_url="https://news.example/b"))
    pipeline.close_spider()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT canonical_url FROM articles").fetchall() == [("https://news.example/b",)]
