"""The two kinds of store, SQLite and PostgreSQL (a real server), behave alike: tables, columns,
schema versions, article outcomes, runs, validators; the commands that read a store take either."""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
import pytest

from newsclean.article import ARTICLE_FIELDS, Article
from newsclean.cli import main
from newsclean.store import open_store, schema

pytestmark = pytest.mark.crawl  # a real PostgreSQL server


def _article(n: int, text: str = "") -> dict[str, Any]:
    row: dict[str, Any] = asdict(Article())
    text = text or f"Story {n} " + "word " * 40
    row.update(url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}", site="x", title=f"T{n}",
               authors=["A", "B"], tags=[], source_evidence=[], text=text, word_count=len(text.split()),
               language_probability=0.5,
               content_hash=f"hash-{hash(text)}", fetched_at="2026-12-03T09:00:00+00:00")  # fmt: skip
    return row


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return str(request.getfixturevalue("pg_url"))


def _columns(target: str) -> dict[str, list[str]]:
    if target.startswith("postgresql://"):
        with psycopg.connect(target) as conn:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, ordinal_position"
            ).fetchall()
    else:
        with sqlite3.connect(target) as conn:
            tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            rows = [(t, c[1]) for t in tables for c in conn.execute(f"PRAGMA table_info({t})")]
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def test_both_kinds_have_the_same_tables_columns_and_version(tmp_path: Path, pg_url: str) -> None:
    sqlite_target = str(tmp_path / "store.sqlite")
    for target in (sqlite_target, pg_url):
        with open_store(target) as store:
            assert store.schema_version() == schema.VERSION
    tables = _columns(sqlite_target)
    assert tables == _columns(pg_url)
    expected = {"articles", "revisions", "runs", "validators", "schema_version", "raw_pages", "warc_progress",
                "minhash", "minhash_bands", "clusters"}  # fmt: skip
    assert set(tables) == expected
    assert sorted(tables["articles"]) == sorted(ARTICLE_FIELDS)


def test_articles_runs_and_validators_behave_alike(target: str) -> None:
    with open_store(target) as store:
        assert store.save_article(_article(1)) == "new"
        assert store.save_article(_article(1)) == "unchanged"
        assert store.save_article(_article(1, "Corrected " + "word " * 40)) == "updated"
        assert store.save_article(_article(2)) == "new"
        assert store.fetched_time("https://x.example/2") == store.fetched_time(
            "https://x.example/9", "https://x.example/2"
        )
        assert store.fetched_time("https://x.example/2") is not None
        assert store.fetched_time("https://x.example/9") is None
        assert store.save_article({**_article(5), "published": "2027-03-01T22:00:00+00:00", "modified": ""}) == "new"
        assert store.page_dates("https://x.example/9", "https://x.example/5") == ["2027-03-01T22:00:00+00:00"]
        assert store.page_dates("https://x.example/2") == []
        assert store.page_dates("https://x.example/9") == []
        assert store.stored_since("https://x.example/1", "2026-12-03T08:00:00+00:00")
        assert not store.stored_since("https://x.example/1", "2026-12-03T10:00:00+00:00")
        assert not store.stored_since("https://x.example/3", "2000-01-01")
        assert store.articles_by_site() == {"x": 3}
        store.save_validators({"https://x.example/rss": ('"e1"', "")})
        store.save_validators({"https://x.example/rss": ('"e2"', "Tue, 03 Dec 2026 09:00:00 GMT")})
        assert store.load_validators() == {"https://x.example/rss": ('"e2"', "Tue, 03 Dec 2026 09:00:00 GMT")}
        first = store.start_run("x")
        store.finish_run(first, {"new": 2, "dropped": {"too_short": 1}, "errors": {}})
        second = store.start_run("x")
        runs = store.runs("x")
        assert [r["id"] for r in runs] == [second, first]
        assert runs[0]["end"] is None  # a run that never finished shows it
        assert (runs[1]["new"], runs[1]["dropped"], runs[1]["errors"]) == (2, {"too_short": 1}, {})
        assert store.spiders() == ["x"]
    # The earlier text of the corrected article is kept, in both kinds.
    query = "SELECT text FROM revisions WHERE canonical_url = 'https://x.example/1'"
    if target.startswith("postgresql://"):
        with psycopg.connect(target) as conn:
            revisions = conn.execute(query).fetchall()
    else:
        with sqlite3.connect(target) as conn:
            revisions = conn.execute(query).fetchall()
    assert revisions == [(_article(1)["text"],)]


def test_a_sqlite_store_from_before_versions_is_adopted_with_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # the tables as newsclean created them before schema versions
        for statement in schema.statements("sqlite", 1):
            conn.execute(statement.replace('"end"', "end"))
        conn.execute("INSERT INTO runs (spider, start) VALUES ('x', '2026-01-01T00:00:00+00:00')")
    with open_store(str(db)) as store:
        assert store.schema_version() == schema.VERSION
        assert [r["spider"] for r in store.runs()] == ["x"]
    with sqlite3.connect(db) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, schema.VERSION + 1))  # adopted as 1, then migrated forward


def test_a_store_from_a_newer_newsclean_is_refused(target: str) -> None:
    open_store(target).close()
    newer = schema.VERSION + 1
    if target.startswith("postgresql://"):
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_version VALUES (%s, 'later')", (newer,))
    else:
        with sqlite3.connect(target) as conn:
            conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (newer,))
    with pytest.raises(schema.SchemaTooNewError, match=f"schema version {newer}, newer than"):
        open_store(target)


def test_runs_and_check_sites_read_a_postgres_store(pg_url: str) -> None:
    with open_store(pg_url) as store:
        for _ in range(2):
            run = store.start_run("x")
            store.finish_run(run, {"new": 3, "links": 3, "articles": 3, "article_pages": 3})
    out = io.StringIO()
    assert main(["runs", "--json", "--db", pg_url], out=out) == 0
    runs = json.loads(out.getvalue())
    assert [(r["spider"], r["new"]) for r in runs] == [("x", 3), ("x", 3)]
    out = io.StringIO()
    assert main(["check-sites", "--db", pg_url], out=out) == 0
    assert out.getvalue().startswith("x: ok")
    password_url = pg_url.replace("postgres@", "postgres:secret@").rsplit("/", 1)[0] + "/no_such_db"
    assert main(["runs", "--db", password_url], out=io.StringIO()) == 2  # a store that is not there
