"""Wire-copy clusters in both kinds of store, SQLite and PostgreSQL (a real server): the same
clusters, originals and agency credits through the same code (newsclean/store/clusters.py), and
copies stored at the same moment by two PostgreSQL connections (two hosts) still meet."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from newsclean.store import dialect, open_store

from .test_clusters import GUARDIAN_WHEAT, SEED_TMT, SEED_TRT, TMT_WHEAT, _article, _synthetic, _words

pytestmark = pytest.mark.crawl  # a real PostgreSQL server


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return str(request.getfixturevalue("pg_url"))


def _row(store: Any, url: str) -> dict[str, Any]:
    return dict(dialect.execute(store, "SELECT * FROM articles WHERE canonical_url = ?", (url,)).fetchone())


def _cluster(store: Any, cluster: str) -> tuple[str, int] | None:
    row = dialect.execute(store, "SELECT original, size FROM clusters WHERE id = ?", (cluster,)).fetchone()
    return (row["original"], int(row["size"])) if row is not None else None


@pytest.mark.parametrize("order", [(TMT_WHEAT, GUARDIAN_WHEAT), (GUARDIAN_WHEAT, TMT_WHEAT)])
def test_a_wire_copy_on_two_sites_shares_a_cluster_whose_original_came_first(
    target: str, order: tuple[str, str]
) -> None:
    for name in order:  # one connection for each article: the index is in the store
        with open_store(target) as store:
            item = _article(name)
            store.save_article(item)
            assert item["cluster"]  # the caller's article gets its row's cluster
    with open_store(target) as store:
        tmt = _row(store, _article(TMT_WHEAT)["canonical_url"])
        guardian = _row(store, _article(GUARDIAN_WHEAT)["canonical_url"])
        assert tmt["cluster"] == guardian["cluster"] != ""
        assert _cluster(store, tmt["cluster"]) == (tmt["canonical_url"], 2)  # published first
        for name in (SEED_TMT, SEED_TRT):  # the same story rewritten by two newsrooms: two clusters of one
            store.save_article(_article(name))
        seeds = [_row(store, _article(n)["canonical_url"])["cluster"] for n in (SEED_TMT, SEED_TRT)]
        assert seeds[0] != seeds[1]
        assert _cluster(store, seeds[0]) is None


def test_a_bridging_copy_merges_clusters_a_rewritten_one_leaves_and_agencies_are_credited(target: str) -> None:
    rng = random.Random(7)
    parts = [_words(rng, 40) for _ in range(9)]
    a = _synthetic("https://a.example/1", parts[:6], "2024-12-30T10:00:00+00:00")
    c = _synthetic("https://c.example/1", parts[3:], "2024-12-30T08:00:00+02:00")  # 06:00 UTC: first
    b = _synthetic("https://b.example/1", parts, "2024-12-30T12:00:00+00:00")
    with open_store(target) as store:
        store.save_article(a)
        store.save_article(c)
        assert _row(store, a["url"])["cluster"] != _row(store, c["url"])["cluster"]
        store.save_article(b)
        ids = {_row(store, u)["cluster"] for u in (a["url"], b["url"], c["url"])}
        assert len(ids) == 1
        assert _cluster(store, ids.pop()) == (c["url"], 3)
        b2 = _synthetic(b["url"], [_words(rng, 40) for _ in range(6)], b["published"])
        assert store.save_article(b2) == "updated"
        assert _row(store, b["url"])["cluster"] != _row(store, a["url"])["cluster"] == _row(store, c["url"])["cluster"]
        assert _cluster(store, _row(store, a["url"])["cluster"]) == (c["url"], 2)
        # A copy of an agency's own page gets the agency, either way round.
        rng = random.Random(11)
        parts = [_words(rng, 40) for _ in range(6)]
        copy = _synthetic("https://news.example/world/story", parts[:5], "2024-12-30T12:00:00+00:00")
        own = _synthetic("https://www.reuters.com/world/story-2024-12-30/", parts, "2024-12-30T09:00:00+00:00")
        late = _synthetic("https://other.example/a/b", parts[1:], "2024-12-31T00:00:00+00:00")
        for article in (copy, own, late):
            store.save_article(article)
        for article in (copy, late):
            stored = _row(store, article["url"])
            assert (stored["source"], json.loads(stored["source_evidence"])) == ("Reuters", ["cluster:Reuters"])
        assert _cluster(store, _row(store, late["url"])["cluster"]) == (own["url"], 3)


def test_copies_stored_at_once_by_two_postgres_connections_share_a_cluster(pg_url: str) -> None:
    rng = random.Random(5)
    stories = [[_words(rng, 40) for _ in range(5)] for _ in range(12)]
    pairs = [
        (_synthetic(f"https://one.example/{n}", s, "2024-12-30T10:00:00+00:00"),
         _synthetic(f"https://two.example/{n}", s[:4], "2024-12-30T11:00:00+00:00"))
        for n, s in enumerate(stories)
    ]  # fmt: skip
    stores = [open_store(pg_url), open_store(pg_url)]  # two hosts
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def save(side: int) -> None:
        try:
            for pair in pairs:
                barrier.wait(timeout=30)  # both copies of a story at the same moment
                stores[side].save_article(pair[side])
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=save, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not failures, failures
        for one, two in pairs:
            first, second = _row(stores[0], one["url"]), _row(stores[0], two["url"])
            assert first["cluster"] == second["cluster"] != "", (one["url"], two["url"])
            assert _cluster(stores[0], first["cluster"]) == (one["url"], 2)
    finally:
        for opened in stores:
            opened.close()


def test_a_crawl_into_postgres_clusters_copies_and_exports_their_original_and_size(
    mirror: str, pg_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    import pyarrow.parquet as pq

    from .helpers import crawl_cmd, run
    from .test_analysis_commands import WHEAT_GUARDIAN, WHEAT_TMT

    out = tmp_path / "articles.parquet"
    run(crawl_cmd("themoscowtimes", mirror, pg_url), run_env)  # type: ignore[arg-type]
    run([*crawl_cmd("theguardian", mirror, pg_url), "-O", str(out)], run_env)  # type: ignore[arg-type]
    exported = {r["canonical_url"]: r for r in pq.read_table(out).to_pylist()}
    with open_store(pg_url) as store:
        guardian = _row(store, WHEAT_GUARDIAN)
        assert guardian["cluster"] == _row(store, WHEAT_TMT)["cluster"] != ""
    assert exported[WHEAT_GUARDIAN]["cluster"] == guardian["cluster"]  # the crawl's item got the store's cluster
    # As from an SQLite store (tests/test_analysis_commands.py): the original, and 3 members with the drift copy.
    assert (exported[WHEAT_GUARDIAN]["cluster_original"], exported[WHEAT_GUARDIAN]["cluster_size"]) == (WHEAT_TMT, 3)
