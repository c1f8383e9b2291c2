"""The store's work split for speed: MinHash fingerprints computed by the extraction worker, and a
backfill's articles committed in batches (each in a savepoint), in a real SQLite store."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from newsclean import minhash, store
from newsclean.crawl.worker import process_page
from newsclean.extraction import extract_article
from newsclean.fixtures import Fixture, load_fixtures
from newsclean.store import rawpages

TMT_WHEAT = "themoscowtimes/2024-12-30_russian-wheat-exports-slow.html"
OTHER_STORY = "trtworld/2024-12-30_north-korean-soldier-captured.html"


def _fixture(name: str) -> Fixture:
    return next(f for f in load_fixtures() if f"{f.site}/{f.body_path.name}" == name)


def _article(name: str, copy: int = 0) -> dict[str, Any]:
    fixture = _fixture(name)
    article = extract_article(fixture.body(), fixture.url)
    assert article is not None
    article.fetched_at = "2026-11-24T09:00:00+00:00"
    row = dataclasses.asdict(article)
    if copy:  # the same story at another URL, one word added: a wire copy
        row["canonical_url"] = row["url"] = f"{row['canonical_url']}?copy={copy}"
        row["text"] = f"{row['text']} copy{copy}"
        row["content_hash"] = f"hash-of-copy-{copy}"
    return row


def _stored(path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT canonical_url, cluster FROM articles").fetchall())


def test_the_worker_attaches_the_fingerprint_the_store_would_compute() -> None:
    fixture = _fixture(TMT_WHEAT)
    result = process_page(fixture.body(), fixture.url, None, None)
    assert result.article is not None
    attached = minhash.fingerprint_of(result.article)
    assert attached == minhash.fingerprint(result.article.text, result.article.content_hash)
    assert attached is not None
    assert attached.signature is not None
    assert len(attached.bands) == minhash.BANDS
    assert result.removed == []


def test_clusters_are_the_same_with_the_workers_fingerprints_and_without(tmp_path: Path) -> None:
    rows = [_article(TMT_WHEAT), _article(TMT_WHEAT, 1), _article(TMT_WHEAT, 2), _article(OTHER_STORY)]
    for name, given in (("computed.sqlite", False), ("given.sqlite", True)):
        with closing(store.connect(tmp_path / name)) as conn:
            for row in rows:
                known = minhash.fingerprint(row["text"], row["content_hash"]) if given else None
                store.save_article(conn, dict(row), None, known)
    computed, given = _stored(tmp_path / "computed.sqlite"), _stored(tmp_path / "given.sqlite")
    assert computed == given
    assert len({computed[r["canonical_url"]] for r in rows[:3]}) == 1  # the copies: one cluster
    assert computed[rows[3]["canonical_url"]] != computed[rows[0]["canonical_url"]]


def test_a_fingerprint_of_another_text_is_not_used(tmp_path: Path) -> None:
    original, other = _article(TMT_WHEAT), _article(OTHER_STORY)
    wrong = minhash.fingerprint(other["text"], other["content_hash"])  # not this article's text
    with closing(store.connect(tmp_path / "s.sqlite")) as conn:
        store.save_article(conn, dict(other))
        store.save_article(conn, dict(original), None, wrong)
        clusters = dict(conn.execute("SELECT canonical_url, cluster FROM articles").fetchall())
    assert clusters[original["canonical_url"]] != clusters[other["canonical_url"]]


def test_a_batch_keeps_its_articles_when_one_fails_and_commits_with_its_progress(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with closing(store.connect(path)) as conn:
        rawpages.ensure_tables(conn)
        first, second = _article(TMT_WHEAT), _article(OTHER_STORY)
        assert store.save_article(conn, first, commit=False) == "new"
        broken = {**_article(TMT_WHEAT, 3), "title": None, "text": None}  # NOT NULL columns: refused
        with pytest.raises(sqlite3.IntegrityError):
            store.save_article(conn, broken, commit=False)
        assert store.save_article(conn, second, commit=False) == "new"
        assert conn.in_transaction
        assert _stored(path) == {}  # nothing visible to another connection before the commit
        rawpages.save_progress(conn, "x.warc.gz", 1234, commit=False)
        conn.commit()
    assert set(_stored(path)) == {first["canonical_url"], second["canonical_url"]}
    with closing(store.connect(path)) as conn:
        assert rawpages.progress(conn, "x.warc.gz") == (1234, False)
