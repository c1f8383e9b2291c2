"""Benchmark what wire-copy clustering costs per article, against extraction, in the same run.

    python benchmarks/clusters.py DATA_DIR [--background 20000] [--rounds 3]

DATA_DIR is a folder of real pages in the article-extraction benchmark's layout (``ground-truth.json``
and ``html/<id>.html.gz``). Each page is extracted (``extract_article``, timed: the baseline), then
saved into a store that already holds ``--background`` articles (their signatures and bands too), once
with clustering and once without, in the same transaction as the crawl does it. Prints per article
the extraction time, the clustering time (signature, band lookup, comparisons, writes: the difference
between the two saves, and ``clusters.assign`` timed alone), and the ratio. Target: at most 5 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsclean import store
from newsclean.article import Article
from newsclean.extraction import extract_article
from newsclean.store import clusters

TARGET_SHARE = 0.05


def _pages(data_dir: Path) -> list[tuple[str, bytes]]:
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    return [(v["url"], gzip.decompress((data_dir / "html" / f"{k}.html.gz").read_bytes())) for k, v in truth.items()]


def _background(conn: Any, count: int, texts: list[str]) -> None:
    """``count`` stored articles with their signatures and bands: other texts' words, reshuffled."""
    rng = random.Random(1)
    words = [w for t in texts for w in t.split()]
    for i in range(count):
        text = " ".join(rng.choice(words) for _ in range(400))
        url = f"https://background.example/{i}"
        article = Article(url=url, canonical_url=url, site="background", title="t", text=text).finish()
        store.save_article(conn, dataclasses.asdict(article))


def _unclustered(conn: Any, row: dict[str, Any], known: Any = None) -> clusters.Assignment:
    """``clusters.cluster_row`` left out: the article stays a cluster of one."""
    row["cluster"] = ""
    return clusters.Assignment("", row["canonical_url"], 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--background", type=int, default=20_000, help="articles already in the store")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    pages = _pages(args.data)
    articles: list[dict[str, Any]] = []
    extraction: list[float] = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        found = [extract_article(html, url) for url, html in pages]
        extraction.append((time.perf_counter() - started) / len(pages))
    articles = [dataclasses.asdict(a) for a in found if a is not None]

    folder = Path(tempfile.mkdtemp(prefix="newsclean-cluster-bench-"))
    with closing(store.connect(folder / "store.sqlite")) as conn:
        started = time.perf_counter()
        _background(conn, args.background, [a["text"] for a in articles])
        print(f"store of {args.background:,} background articles built in {time.perf_counter() - started:.0f} s")
        assign, with_clusters, without = [], [], []
        for round_ in range(args.rounds):
            rows = [{**a, "canonical_url": f"{a['canonical_url']}#{round_}"} for a in articles]
            started = time.perf_counter()
            for row in rows:
                with conn:
                    clusters.assign(conn, store.to_row(row))
            assign.append((time.perf_counter() - started) / len(rows))
            conn.execute("DELETE FROM articles WHERE canonical_url LIKE '%#%'")
            conn.commit()
            started = time.perf_counter()
            for row in rows:
                store.save_article(conn, {**row, "canonical_url": row["canonical_url"] + "a"})
            with_clusters.append((time.perf_counter() - started) / len(rows))
            original = clusters.cluster_row
            clusters.cluster_row = _unclustered  # the same save, clustering left out
            try:
                started = time.perf_counter()
                for row in rows:
                    store.save_article(conn, {**row, "canonical_url": row["canonical_url"] + "b"})
                without.append((time.perf_counter() - started) / len(rows))
            finally:
                clusters.cluster_row = original
        copies = conn.execute("SELECT COUNT(*) FROM clusters WHERE size > 1").fetchone()[0]

    ms = 1000
    per_page = statistics.median(extraction)
    cost = statistics.median(assign)
    saved = statistics.median(with_clusters) - statistics.median(without)
    print(f"pages: {len(pages)}, articles: {len(articles)}, rounds: {args.rounds}")
    rounds = ", ".join(f"{x * ms:.2f}" for x in extraction)
    print(f"extraction (baseline): {per_page * ms:.2f} ms per page (rounds: {rounds})")
    rounds = ", ".join(f"{x * ms:.3f}" for x in assign)
    print(f"clusters.assign alone: {cost * ms:.3f} ms per article (rounds: {rounds})")
    print(
        f"save_article with / without clustering: {statistics.median(with_clusters) * ms:.3f} / "
        f"{statistics.median(without) * ms:.3f} ms; difference {saved * ms:.3f} ms"
    )
    share = max(cost, saved) / per_page
    print(f"clustering / extraction: {share:.1%} (target <= {TARGET_SHARE:.0%}); clusters with copies: {copies}")
    return 0 if share <= TARGET_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
