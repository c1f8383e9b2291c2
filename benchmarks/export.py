"""Benchmark the Parquet export on a large store: rows per second and peak memory.

    python benchmarks/export.py [DATA_DIR] [--articles 100000] [--db PATH] [--format parquet]

Builds a store of ``--articles`` articles (texts taken in turn from DATA_DIR's ``ground-truth.json``
bodies, e.g. the article-extraction benchmark's folder, else from the project's fixtures; every
twentieth article a wire copy in a cluster of three), then, in a fresh process each, times

- the baseline: reading every row of the same query from SQLite, nothing converted or written;
- the export: ``newsclean.store.export.export`` to a Parquet file (the code behind ``newsclean export``).

Prints rows per second, the export's peak resident memory (the child process's high-water mark,
interpreter and imports included), the file's size and row groups, and the ratio of the export's time
to the baseline's. Targets: at least 20,000 rows/s and under 300 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsclean import store
from newsclean.article import Article
from newsclean.store import export

TARGET_ROWS_PER_S = 20_000
TARGET_PEAK_MB = 300


def _texts(data_dir: Path | None) -> list[str]:
    if data_dir is not None:
        truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
        return [v["articleBody"] for v in truth.values() if v.get("articleBody")]
    from newsclean.fixtures import load_fixtures

    return [f.expected["text"] for f in load_fixtures() if f.kind == "article"]


def build_store(path: Path, count: int, texts: list[str]) -> None:
    """``count`` articles written straight into the store's tables (as the crawl leaves them)."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with closing(store.connect(path)) as conn:
        batch, clusters = [], []
        for i in range(count):
            text = f"{texts[i % len(texts)]}\n\nItem {i}."
            url = f"https://site{i % 7}.example/2024/{i:07d}"
            article = Article(
                url=url,
                canonical_url=url,
                site=f"site{i % 7}",
                title=f"Headline number {i}",
                subtitle="A standfirst of a sentence or so.",
                authors=["Jane Roe", "John Doe"][: 1 + i % 2],
                source=["", "AFP", "Reuters"][i % 3],
                published=(start + timedelta(minutes=7 * i)).isoformat(),
                published_raw=(start + timedelta(minutes=7 * i)).isoformat(),
                section="World",
                tags=["Politics", "Europe", "Economy"][: 1 + i % 3],
                description="The page's summary.",
                image=f"https://img.example/{i}.jpg",
                language="en",
                language_probability=0.99999,
                text=text,
                fetched_at=(start + timedelta(minutes=7 * i + 5)).isoformat(),
                rules="generic",
                method="trafilatura",
                source_evidence=["byline:AFP"] if i % 3 == 1 else [],
            ).finish()
            group = i - i % 3 if i % 60 < 3 else i  # every twentieth article: a cluster of three
            article.cluster = "c" + hashlib.sha256(str(group).encode()).hexdigest()[:16]
            if group == i:
                clusters.append((article.cluster, url, 3 if i % 60 < 3 else 1))
            batch.append(store.to_row(dataclasses.asdict(article)))
            if len(batch) == 5_000:
                _insert(conn, batch, clusters)
                batch, clusters = [], []
        _insert(conn, batch, clusters)


def _insert(conn: object, rows: list[dict[str, object]], clusters: list[tuple[str, str, int]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    with conn:  # type: ignore[attr-defined]
        conn.executemany(  # type: ignore[attr-defined]
            f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", rows
        )
        conn.executemany("INSERT INTO clusters VALUES (?, ?, ?)", clusters)  # type: ignore[attr-defined]


def child(mode: str, db: Path, out: Path) -> None:
    """Run in a process of its own: ``read`` (baseline) or ``export``; prints rows and seconds."""
    with closing(store.connect(db)) as conn:
        started = time.perf_counter()
        if mode == "read":
            sql, params = export.query(conn, export.Filters())
            cursor = conn.execute(sql, params)
            rows = 0
            while batch := cursor.fetchmany(export.BATCH_ROWS):
                rows += len(batch)
        else:
            rows = export.export(conn, out, "parquet")
        elapsed = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": elapsed}))


def _run_child(mode: str, db: Path, out: Path) -> tuple[dict[str, float], float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of the children is the largest of any child so far: run the export after the read,
    # and report its own figure only when it is the larger (it always is: it holds pyarrow and a row group).
    return json.loads(proc.stdout), max(peak_kb, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, help="a folder with ground-truth.json (texts); default fixtures")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="store to build (or reuse, when it has the articles)")
    parser.add_argument("--out", type=Path, help="Parquet file to write (default: beside the store)")
    parser.add_argument("--child", choices=("read", "export"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="newsclean-export-bench-"))
    db = args.db or folder / "store.sqlite"
    out = args.out or folder / "articles.parquet"
    with closing(store.connect(db)) as conn:
        have = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    if have != args.articles:
        if have:
            parser.error(f"{db} holds {have} articles, not {args.articles}: give another --db")
        started = time.perf_counter()
        build_store(db, args.articles, _texts(args.data))
        print(f"built a store of {args.articles:,} articles in {time.perf_counter() - started:.1f} s: {db}")
    size_mb = db.stat().st_size / 1e6

    base, base_peak = _run_child("read", db, out)
    result, peak = _run_child("export", db, out)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == result["rows"] == args.articles, (meta.num_rows, result)
    rate = result["rows"] / result["seconds"]
    print(f"store: {size_mb:,.0f} MB, {args.articles:,} articles")
    print(
        f"baseline (read every row, nothing written): {base['rows'] / base['seconds']:,.0f} rows/s "
        f"({base['seconds']:.2f} s), peak RSS {base_peak:.0f} MB"
    )
    print(
        f"export to Parquet: {rate:,.0f} rows/s ({result['seconds']:.2f} s), peak RSS {peak:.0f} MB; "
        f"{out.stat().st_size / 1e6:,.0f} MB, {meta.num_row_groups} row groups"
    )
    print(f"ratio export time / baseline time: {result['seconds'] / base['seconds']:.2f}")
    met = rate >= TARGET_ROWS_PER_S and peak < TARGET_PEAK_MB
    print(f"targets (>= {TARGET_ROWS_PER_S:,} rows/s, < {TARGET_PEAK_MB} MB): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
