"""Wire-copy clusters, in a real SQLite store: copies of one story share a cluster across sites and
connections; the same story rewritten by another newsroom does not."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from newsclean import store
from newsclean.article import Article
from newsclean.extraction import extract_article
from newsclean.fixtures import Fixture, load_fixtures
from newsclean.store import clusters

TMT_WHEAT = "themoscowtimes/2024-12-30_russian-wheat-exports-slow.html"
GUARDIAN_WHEAT = "theguardian/2024-12-30_russian-wheat-exports-fall-ahead-of.html"
SEED_TMT = "themoscowtimes/2024-12-27_ukraine-captured-north-korean-soldier.html"
SEED_TRT = "trtworld/2024-12-30_north-korean-soldier-captured.html"


def _fixture(name: str) -> Fixture:
    return next(f for f in load_fixtures() if f"{f.site}/{f.body_path.name}" == name)


def _article(name: str) -> dict[str, Any]:
    fixture = _fixture(name)
    article = extract_article(fixture.body(), fixture.url)
    assert article is not None
    article.fetched_at = "2026-11-24T09:00:00+00:00"
    return dataclasses.asdict(article)


def _row(conn: sqlite3.Connection, url: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM articles WHERE canonical_url = ?", (url,)).fetchone()
    return dict(row)


def _cluster(conn: sqlite3.Connection, cluster: str) -> tuple[str, int] | None:
    """A cluster's original and size; None for a cluster of one (which has no row)."""
    row = conn.execute("SELECT original, size FROM clusters WHERE id = ?", (cluster,)).fetchone()
    return (row["original"], row["size"]) if row is not None else None


def test_every_fixture_article_pair_is_far_apart_except_the_wire_copy() -> None:
    # Drift fixtures (drift_*) are other fixtures' articles in a changed layout: copies, left out here.
    fixtures = [f for f in load_fixtures() if not f.body_path.name.startswith("drift_")]
    articles = {f"{f.site}/{f.body_path.name}": extract_article(f.body(), f.url) for f in fixtures}
    sigs = {name: clusters.signature(a.text) for name, a in articles.items() if a is not None}
    sigs = {name: sig for name, sig in sigs.items() if sig is not None}
    assert len(sigs) >= 10
    for a in sigs:
        for b in sigs:
            if a < b:
                score = clusters.similarity(sigs[a], sigs[b])
                if {a, b} == {TMT_WHEAT, GUARDIAN_WHEAT}:
                    assert score >= 0.7, score
                else:
                    assert score <= 0.15, (a, b, score)


@pytest.mark.parametrize("order", [(TMT_WHEAT, GUARDIAN_WHEAT), (GUARDIAN_WHEAT, TMT_WHEAT)])
def test_a_wire_copy_on_two_sites_shares_a_cluster_whose_original_came_first(
    order: tuple[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "store.sqlite"
    # One connection for each article: the lookup is in the store, not in a process's memory.
    for name in order:
        with closing(store.connect(db)) as conn:
            store.save_article(conn, _article(name))
    with closing(store.connect(db)) as conn:
        tmt = _row(conn, _article(TMT_WHEAT)["canonical_url"])
        guardian = _row(conn, _article(GUARDIAN_WHEAT)["canonical_url"])
        assert tmt["site"] != guardian["site"]
        assert tmt["cluster"]
        assert tmt["cluster"] == guardian["cluster"]
        # The Moscow Times published at 06:30 UTC, the Guardian at 11:48 UTC.
        assert _cluster(conn, tmt["cluster"]) == (tmt["canonical_url"], 2)


def test_the_seed_story_rewritten_by_two_newsrooms_is_not_one_cluster(tmp_path: Path) -> None:
    with closing(store.connect(tmp_path / "store.sqlite")) as conn:
        for name in (SEED_TMT, SEED_TRT):
            store.save_article(conn, _article(name))
        rows = [dict(r) for r in conn.execute("SELECT canonical_url, cluster FROM articles")]
        assert len(rows) == 2
        assert rows[0]["cluster"] != rows[1]["cluster"]
        for row in rows:
            assert _cluster(conn, row["cluster"]) is None


def _words(rng: random.Random, n: int) -> str:
    vocabulary = [f"w{i}" for i in range(5000)]
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def _synthetic(url: str, paragraphs: list[str], published: str) -> dict[str, Any]:
    article = Article(url=url, canonical_url=url, site=url.split("/")[2], title="t", text="\n\n".join(paragraphs))
    article.published = published
    article.fetched_at = "2026-11-24T09:00:00+00:00"
    return dataclasses.asdict(article.finish())


def test_a_copy_that_bridges_two_clusters_merges_them_and_a_changed_text_leaves(tmp_path: Path) -> None:
    rng = random.Random(7)
    parts = [_words(rng, 40) for _ in range(9)]
    a = _synthetic("https://a.example/1", parts[:6], "2024-12-30T10:00:00+00:00")
    c = _synthetic("https://c.example/1", parts[3:], "2024-12-30T08:00:00+02:00")  # 06:00 UTC: first
    b = _synthetic("https://b.example/1", parts, "2024-12-30T12:00:00+00:00")
    with closing(store.connect(tmp_path / "store.sqlite")) as conn:
        store.save_article(conn, a)
        store.save_article(conn, c)
        assert _row(conn, a["url"])["cluster"] != _row(conn, c["url"])["cluster"]  # a third in common
        store.save_article(conn, b)
        ids = {_row(conn, u)["cluster"] for u in (a["url"], b["url"], c["url"])}
        assert len(ids) == 1
        assert _cluster(conn, ids.pop()) == (c["url"], 3)
        assert conn.execute("SELECT COUNT(*) FROM clusters").fetchone()[0] == 1

        # b is rewritten entirely: it leaves, and a and c stay together only through what is left.
        b2 = _synthetic(b["url"], [_words(rng, 40) for _ in range(6)], b["published"])
        store.save_article(conn, b2)
        assert _row(conn, b["url"])["cluster"] not in {_row(conn, a["url"])["cluster"], _row(conn, c["url"])["cluster"]}
        assert _cluster(conn, _row(conn, b["url"])["cluster"]) is None
        # a and c stay one cluster (single linkage keeps what was joined), now of two.
        assert _row(conn, a["url"])["cluster"] == _row(conn, c["url"])["cluster"]
        assert _cluster(conn, _row(conn, a["url"])["cluster"]) == (c["url"], 2)


def test_a_copy_of_an_agency_page_gets_the_agency_as_source(tmp_path: Path) -> None:
    rng = random.Random(11)
    parts = [_words(rng, 40) for _ in range(6)]
    copy = _synthetic("https://news.example/world/story", parts[:5], "2024-12-30T12:00:00+00:00")
    own = _synthetic("https://www.reuters.com/world/story-2024-12-30/", parts, "2024-12-30T09:00:00+00:00")
    with closing(store.connect(tmp_path / "store.sqlite")) as conn:
        store.save_article(conn, copy)
        assert _row(conn, copy["url"])["source"] == ""
        store.save_article(conn, own)
        stored = _row(conn, copy["url"])
        assert (stored["source"], json.loads(stored["source_evidence"])) == ("Reuters", ["cluster:Reuters"])
        # And the other way round: a copy arriving after the agency's page.
        late = _synthetic("https://other.example/a/b", parts[1:], "2024-12-31T00:00:00+00:00")
        store.save_article(conn, late)
        stored = _row(conn, late["url"])
        assert (stored["source"], json.loads(stored["source_evidence"])) == ("Reuters", ["cluster:Reuters"])
        assert _cluster(conn, stored["cluster"]) == (own["url"], 3)


def test_a_store_made_before_clusters_gets_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    from newsclean.store import schema

    with closing(sqlite3.connect(db)) as conn:  # a store as newsclean wrote it before schema versions
        for statement in schema.statements("sqlite", 1):
            conn.execute(statement)
        values = {name: "" for name in schema.V1_FIELDS} | {"language_probability": 0, "word_count": 2}
        values |= {"url": "https://x.example/1", "canonical_url": "https://x.example/1", "text": "old text"}
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO articles ({', '.join(values)}) VALUES ({marks})", list(values.values()))
        conn.commit()
    with closing(store.connect(db)) as conn:
        row = _row(conn, "https://x.example/1")
        assert (row["cluster"], row["source_evidence"], row["text"]) == ("", "[]", "old text")
