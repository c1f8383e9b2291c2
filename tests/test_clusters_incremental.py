"""A copy joining one cluster updates the cluster's row from what the row holds (its size, its original)
instead of reading every member (newsclean/store/clusters.py ``_join``). Here, in both kinds of store,
after every save of a random-ish sequence (copies joining, copies bridging two clusters and merging
them, agency pages joining early or late, articles re-saved unchanged, with another date, without
their source, or with a new text that leaves their cluster, re-extracted rows, missing dates), the
store must be what a full recompute of every cluster (``_summarise`` over all its members) leaves it:
the same clusters' originals and sizes, and the same sources and agency credits."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from newsclean.article import Article
from newsclean.cli.reextract import keep_store_fields, replace_row
from newsclean.store import clusters, dialect, open_store

from .test_clusters import _synthetic, _words

pytestmark = pytest.mark.crawl  # a real PostgreSQL server

_FIELDS = {f.name for f in dataclasses.fields(Article)}


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return str(request.getfixturevalue("pg_url"))


class _UndoError(Exception):
    """Raised to roll the recompute back."""


def _state(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    articles = dialect.execute(
        store, "SELECT canonical_url, cluster, source, source_evidence FROM articles ORDER BY canonical_url"
    ).fetchall()
    rows = dialect.execute(store, "SELECT id, original, size FROM clusters ORDER BY id").fetchall()
    return [tuple(r) for r in articles], [(r[0], r[1], int(r[2])) for r in rows]


def _recomputed(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The state after a full recompute of every cluster, rolled back."""
    found: list[Any] = []
    try:
        with dialect.transaction(store):
            ids = [r[0] for r in dialect.execute(store, "SELECT DISTINCT cluster FROM articles").fetchall()]
            for cluster in ids:
                clusters._summarise(dialect.connection(store), cluster, exclude="")
            found.append(_state(store))
            raise _UndoError
    except _UndoError:
        pass
    return found[0]


def _stories(rng: random.Random) -> list[list[str]]:
    return [[_words(rng, 40) for _ in range(9)] for _ in range(4)]


def _saves(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """(what, article) in the order saved."""
    stories = _stories(rng)
    plan: list[tuple[str, dict[str, Any]]] = []
    made: list[dict[str, Any]] = []
    for i in range(40):
        story = stories[i % len(stories)]
        # Story 0 comes in two halves (two clusters) that a full copy bridges.
        if i % len(stories) == 0:
            paragraphs = [story[:6], story[3:], story][rng.randrange(3)] if i else story[:6]
        else:
            paragraphs = list(story)
        paragraphs = [*paragraphs, f"copy {i} {_words(rng, 4)}"]
        # Agency pages, one early, one late (into the clusters of stories 1 and 2).
        url = f"https://apnews.com/article/{i}" if i in (9, 30) else f"https://site{i % 7}.example/{i}"
        published = rng.choice(["", "", f"2024-12-{10 + rng.randrange(9):02d}T{rng.randrange(24):02d}:00:00+00:00"])
        article = _synthetic(url, paragraphs, published)
        article["fetched_at"] = f"2026-11-24T09:{rng.randrange(60):02d}:00+00:00"
        if rng.random() < 0.4:
            article["source"], article["source_evidence"] = "Reuters", ["byline:Reuters"]
        made.append(article)
        plan.append(("new", article))
        if i > 5 and rng.random() < 0.35:  # a re-save of an earlier one
            earlier = dict(rng.choice(made))
            kind = ["unchanged", "date", "no source", "new text", "reextract"][(len(plan) - len(made)) % 5]
            if kind == "date":
                earlier["published"] = "" if earlier["published"] else "2024-12-01T00:00:00+00:00"
            elif kind == "no source":
                earlier["source"], earlier["source_evidence"] = "", []
            elif kind == "new text":
                earlier = _synthetic(earlier["url"], [_words(rng, 40) for _ in range(7)], earlier["published"])
            elif kind == "reextract":
                earlier["published"] = "2024-11-01T00:00:00+00:00" if earlier["published"] else ""
                earlier["source"], earlier["source_evidence"] = "", []
            plan.append((kind, earlier))
    return plan


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_every_save_the_clusters_are_what_a_full_recompute_gives(target: str, seed: int) -> None:
    rng = random.Random(seed)
    plan = _saves(rng)
    assert {"new", "unchanged", "date", "no source", "new text", "reextract"} <= {what for what, _ in plan}
    with open_store(target) as store:
        for step, (what, article) in enumerate(plan):
            if what == "reextract":  # the row rewritten by re-extraction, not by a save
                old = dict(
                    dialect.execute(
                        store, "SELECT * FROM articles WHERE canonical_url = ?", (article["canonical_url"],)
                    ).fetchone()
                )
                new = Article(**{k: v for k, v in article.items() if k in _FIELDS})
                keep_store_fields(old, new)
                replace_row(store, old, new)
            else:
                store.save_article(dict(article))
            assert _state(store) == _recomputed(store), f"step {step}: {what} {article['canonical_url']}"
        articles, rows = _state(store)
    # The sequence did what it says: clusters of several, a merge, agency credits.
    assert max(size for *_, size in rows) >= 6
    assert any("cluster:AP" in evidence for *_, evidence in articles)


def test_a_copy_of_a_big_cluster_joins_it_with_the_right_original_size_and_credit(target: str) -> None:
    """The common case step by step: copies joining a cluster one by one, the earlier published
    becoming the original (a member with no date counts by when it was fetched), then an agency page."""
    rng = random.Random(11)
    story = [_words(rng, 40) for _ in range(8)]
    with open_store(target) as store:
        urls = []
        for i, (published, fetched) in enumerate(
            [
                ("2024-12-10T10:00:00+00:00", "09:00"),
                ("", "09:01"),  # no date: its fetch time, 2026, later than every date here
                ("2024-12-10T09:00:00+00:00", "09:02"),  # earlier: the new original
                ("2024-12-10T09:00:00+00:00", "09:03"),  # the same moment: the smaller URL stays
                ("2024-12-09T00:00:00+00:00", "09:04"),
            ]
        ):
            article = _synthetic(f"https://s{i}.example/x", [*story, f"copy {i}"], published)
            article["fetched_at"] = f"2026-11-24T{fetched}:00+00:00"
            store.save_article(article)
            urls.append(article["canonical_url"])
        cluster = dialect.execute(store, "SELECT cluster FROM articles WHERE canonical_url = ?", (urls[0],)).fetchone()
        cluster = cluster[0]
        row = dialect.execute(store, "SELECT original, size FROM clusters WHERE id = ?", (cluster,)).fetchone()
        assert (row[0], int(row[1])) == (urls[4], 5)
        assert _state(store) == _recomputed(store)
        agency = _synthetic("https://apnews.com/article/x", [*story, "copy ap"], "2024-12-11T00:00:00+00:00")
        store.save_article(agency)
        sources = dialect.execute(store, "SELECT source FROM articles WHERE cluster = ?", (cluster,)).fetchall()
        assert [r[0] for r in sources] == ["AP"] * 6
        late = _synthetic("https://s9.example/x", [*story, "copy 9"], "2024-12-12T00:00:00+00:00")
        item = dict(late)
        store.save_article(item)
        assert (item["source"], item["source_evidence"]) == ("AP", ["cluster:AP"])
        assert _state(store) == _recomputed(store)


def test_an_agency_page_the_new_copy_shares_no_band_with_still_credits_it(target: str) -> None:
    """Two halves of a story, merged by a full copy: a copy of one half need not share a band with
    every member of the other half. When the agency's page is such a member, and every member the
    copy does meet has a source, only reading the whole cluster tells its agency: the copy gets it."""
    rng = random.Random(5)
    parts = [_words(rng, 40) for _ in range(9)]
    half_a, half_b = parts[:6], parts[3:]
    agency = _synthetic("https://apnews.com/article/a", [*half_a, "copy ap"], "2024-12-10T08:00:00+00:00")
    newcomer = _synthetic("https://late.example/b", [*half_b, "copy late"], "2024-12-11T08:00:00+00:00")
    bands = [set(clusters.fingerprint(a["text"], a["content_hash"]).bands) for a in (agency, newcomer)]
    assert not bands[0] & bands[1]  # the copy does not meet the agency's page
    with open_store(target) as store:
        for i, (side, paragraphs) in enumerate([("a", half_a), ("b", half_b), ("a", half_a), ("b", half_b)]):
            copy = _synthetic(f"https://{side}{i}.example/x", [*paragraphs, f"copy {i}"], "2024-12-10T09:00:00+00:00")
            copy["source"], copy["source_evidence"] = "Reuters", ["byline:Reuters"]
            store.save_article(copy)
        store.save_article(agency)
        full = _synthetic("https://full.example/x", [*parts, "copy full"], "2024-12-10T10:00:00+00:00")
        full["source"], full["source_evidence"] = "Reuters", ["byline:Reuters"]
        store.save_article(full)  # bridges the halves: one cluster
        assert len({r[1] for r in _state(store)[0]}) == 1
        item = dict(newcomer)
        store.save_article(item)
        assert (item["source"], item["source_evidence"]) == ("AP", ["cluster:AP"])
        assert _state(store) == _recomputed(store)
