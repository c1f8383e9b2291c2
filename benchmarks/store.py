"""Benchmark the store: articles written per second into SQLite and into PostgreSQL, in one run.

    python benchmarks/store.py [--rows 3000] [--postgres URL]

Each article is written as the crawl writes it: one transaction per article (the row locked or
looked up, the article joined to its wire-copy cluster, then an upsert on ``canonical_url``), texts
of about 3,000 characters. Written in turn:

1. SQLite, as shipped (WAL, ``synchronous=NORMAL``), one article after another;
2. PostgreSQL, one connection, one article after another, ``synchronous_commit`` on (every commit
   waits for its WAL flush: the server's default) and off (a commit returns before the flush: a
   server crash may lose the last commits but never leaves half a row; the same promise SQLite's
   ``NORMAL`` makes);
3. PostgreSQL through the crawl's writer (one connection in a thread of its own, awaited from an
   asyncio loop, four articles in flight at a time as four pipeline calls would be), which commits
   with ``synchronous_commit`` off.

Without ``--postgres`` a fresh server is started on loopback (the machine's PostgreSQL programs, with
``fsync`` on, so that commits cost what they cost). Rows/s of each, and the ratio of each
PostgreSQL figure to SQLite's, are printed; the last line is ``ratio X.XX`` (PostgreSQL through the
crawl's writer over SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsclean import store
from newsclean.article import Article
from newsclean.store.postgres import PostgresStore, ThreadWriter

WORDS = [
    "the",
    "council",
    "said",
    "budget",
    "schools",
    "roads",
    "hospitals",
    "region",
    "critics",
    "plan",
    "rural",
    "towns",
    "review",
    "vote",
]


def articles(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        text = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(90)) for _ in range(6))
        url = f"https://bench.example/{seed}/{i}"
        row: dict[str, Any] = asdict(Article())  # every field at its default (PostgreSQL refuses "" for a number)
        row.update(url=url, canonical_url=url, site="bench.example", title=f"Story {i}", text=text)
        row.update(authors=["A. Writer"], tags=["politics", "budget"], language="en", language_probability=0.99)
        row.update(word_count=len(text.split()), fetched_at="2026-12-03T09:00:00+00:00", rules="generic")
        row.update(content_hash=hashlib.sha256(text.encode()).hexdigest(), method="trafilatura")
        found.append(row)
    return found


def timed(label: str, rows: list[dict[str, Any]], save: Any) -> float:
    started = time.perf_counter()
    for row in rows:
        save(row)
    rate = len(rows) / (time.perf_counter() - started)
    print(f"{label:<58} {rate:8.0f} rows/s", flush=True)
    return rate


async def _pooled(writer: ThreadWriter, rows: list[dict[str, Any]], at_once: int) -> None:
    await writer.open()
    queue = iter(rows)

    async def lane() -> None:
        for row in queue:
            await writer.save_article(row)

    await asyncio.gather(*(lane() for _ in range(at_once)))
    await writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--postgres", help="a PostgreSQL database URL to write into (default: start a server)")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = args.postgres
        if not url:
            from tests.servers import postgres_server

            url = stack.enter_context(postgres_server(fsync=True))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        print(f"{args.rows} articles of about {len(articles(1, 0)[0]['text'])} characters, one transaction each")
        conn = store.connect(folder / "bench.sqlite")
        sqlite_rate = timed("SQLite (WAL, synchronous=NORMAL)", articles(args.rows, 1),
                            lambda row: store.save_article(conn, row))  # fmt: skip
        conn.close()
        with PostgresStore(url) as pg:
            durable = timed(
                "PostgreSQL, one connection, synchronous_commit=on", articles(args.rows, 2), pg.save_article
            )
            pg.conn.execute("SET synchronous_commit = off")
            relaxed = timed("PostgreSQL, one connection, synchronous_commit=off", articles(args.rows, 3),
                            pg.save_article)  # fmt: skip
        rows = articles(args.rows, 4)
        started = time.perf_counter()
        asyncio.run(_pooled(ThreadWriter(url), rows, 4))
        pooled = len(rows) / (time.perf_counter() - started)
        print(f"{'PostgreSQL, crawl writer (thread, 4 at a time), sync off':<58} {pooled:8.0f} rows/s")
        for label, rate in (("one connection, sync on", durable), ("one connection, sync off", relaxed),
                            ("crawl writer", pooled)):  # fmt: skip
            print(f"PostgreSQL {label} / SQLite: {rate / sqlite_rate:.2f}")
        print(f"ratio {pooled / sqlite_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
