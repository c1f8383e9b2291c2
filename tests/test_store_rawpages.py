"""Raw pages and WARC backfill progress in both kinds of store, SQLite and PostgreSQL (a real server):
the same functions, the same results, written in the article's own transaction; and a store of
schema version 4 migrated to 5 with its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from newsclean.archive import RawPage
from newsclean.store import dialect, open_store, rawpages, schema

from .test_store_kinds import _article

pytestmark = pytest.mark.crawl  # a real PostgreSQL server

BIG = 5 * 2**30  # an offset past 2 GiB, as in a large WARC file
FILE = "/archive/f.warc.gz"


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return str(request.getfixturevalue("pg_url"))


def _query(target: str, query: str) -> list[tuple[Any, ...]]:
    """Rows seen by another connection (what is committed)."""
    if target.startswith("postgresql://"):
        with psycopg.connect(target) as conn:
            return [tuple(r) for r in conn.execute(query.replace("?", "%s")).fetchall()]
    with sqlite3.connect(target) as conn:
        return [tuple(r) for r in conn.execute(query).fetchall()]


def test_raw_pages_and_backfill_progress_behave_alike(target: str) -> None:
    one, two = _article(1), _article(2)
    page = RawPage(FILE, BIG, 567)
    with open_store(target) as store:
        assert store.save_article(one, page) == "new"
        assert store.save_article(two) == "new"  # a row without a raw page
        assert rawpages.raw_page(store, one["canonical_url"]) == page
        assert rawpages.raw_page(store.conn, two["canonical_url"]) is None  # a store or its connection
        assert [(a.canonical_url, a.url, a.site, a.page) for a in rawpages.archived(store)] == [
            (one["canonical_url"], one["url"], "x", page)
        ]
        assert list(rawpages.archived(store, site="other")) == []
        assert list(rawpages.archived(store, since="2027-01-01")) == []
        since = rawpages.archived(store, site="x", since="2026-12-01")
        assert [a.canonical_url for a in since] == [one["canonical_url"]]
        assert rawpages.stored_offsets(store, FILE, BIG - 1) == {BIG}
        assert rawpages.stored_offsets(store, FILE, BIG + 1) == set()
        assert rawpages.progress(store, FILE) == (0, False)
        rawpages.save_progress(store, FILE, BIG + 600)
        assert _query(target, "SELECT done_offset, finished FROM warc_progress") == [(BIG + 600, 0)]  # committed
        rawpages.save_progress(store, FILE, BIG + 700, finished=True)
        assert rawpages.progress(store, FILE) == (BIG + 700, True)
        # The article stored again from another record (a crawl after a backfill): its raw page follows.
        newer = RawPage("/archive/g.warc.gz", 10, 5)
        assert store.save_article(one, newer) == "unchanged"
        assert rawpages.raw_page(store, one["canonical_url"]) == newer
    assert _query(target, "SELECT canonical_url, warc_file, warc_offset, warc_length FROM raw_pages") == [
        (one["canonical_url"], "/archive/g.warc.gz", 10, 5)
    ]


def test_an_article_refused_by_the_store_leaves_no_raw_page(target: str) -> None:
    broken = {**_article(3), "title": None}  # NOT NULL: the row is refused
    with open_store(target) as store:
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
            store.save_article(broken, RawPage(FILE, 100, 10))
        assert rawpages.raw_page(store, broken["canonical_url"]) is None
        assert store.save_article(_article(4), RawPage(FILE, 200, 10)) == "new"  # the store goes on
    assert _query(target, "SELECT warc_offset FROM raw_pages") == [(200,)]


def test_the_two_way_url_lookups_are_one_helper_for_both_kinds(target: str) -> None:
    with open_store(target) as store:
        store.save_article({**_article(5), "url": "https://x.example/5?utm=a", "published": "2026-12-01"})
        for urls in (("https://x.example/5",), ("https://x.example/5?utm=a",), ("https://nope", "https://x.example/5")):
            assert dialect.fetched_time(store, *urls) == store.fetched_time(*urls) is not None
            assert dialect.page_dates(store, *urls) == store.page_dates(*urls) == ["2026-12-01"]
        assert store.fetched_time("https://nope") is None
        assert store.page_dates("https://nope") == []


def _version_4_store(target: str) -> None:
    """A store as newsclean made it at schema version 4, with a raw page and a backfill's progress."""
    kind = "postgresql" if target.startswith("postgresql://") else "sqlite"
    statements = [schema.version_table(kind)]
    for version in range(1, 5):
        statements += schema.statements(kind, version)
        statements.append(f"INSERT INTO schema_version VALUES ({version}, '2026-11-01T00:00:00+00:00')")
    statements += [
        "INSERT INTO raw_pages VALUES ('https://x.example/1', '/archive/old.warc.gz', 1234, 56, '2026-11-01')",
        "INSERT INTO warc_progress VALUES ('/archive/old.warc.gz', 2000, 0, '2026-11-01')",
    ]
    if kind == "postgresql":
        with psycopg.connect(target, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
    else:
        with sqlite3.connect(target) as conn:
            for statement in statements:
                conn.execute(statement)


def test_a_version_4_store_is_migrated_to_5_with_its_rows(target: str) -> None:
    _version_4_store(target)
    assert schema.VERSION == 5
    with open_store(target) as store:
        assert store.schema_version() == 5
        assert rawpages.raw_page(store, "https://x.example/1") == RawPage("/archive/old.warc.gz", 1234, 56)
        assert rawpages.progress(store, "/archive/old.warc.gz") == (2000, False)
        # Offsets past 2 GiB fit now (PostgreSQL's columns were 32-bit integers before version 5).
        assert store.save_article(_article(2), RawPage("/archive/big.warc.gz", BIG, 10)) == "new"
        rawpages.save_progress(store, "/archive/big.warc.gz", BIG + 10)
        assert rawpages.progress(store, "/archive/big.warc.gz") == (BIG + 10, False)
        assert rawpages.stored_offsets(store, "/archive/big.warc.gz", 0) == {BIG}
    assert _query(target, "SELECT version FROM schema_version ORDER BY version") == [(v,) for v in range(1, 6)]
    if target.startswith("postgresql://"):
        types = _query(
            target,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name IN ('raw_pages', 'warc_progress') AND column_name IN "
            "('warc_offset', 'warc_length', 'done_offset') ORDER BY column_name",
        )
        assert types == [("done_offset", "bigint"), ("warc_length", "bigint"), ("warc_offset", "bigint")]
