"""Benchmark a whole crawl: loopback site, real Scrapy engine, full pipelines into SQLite.

    python benchmarks/crawl.py DATA_DIR [--pages 3000] [--rss-pages 20000] [--workers N]

DATA_DIR holds ``ground-truth.json`` (id -> {"url", ...}) and ``html/<id>.html.gz`` (the dev
benchmark pages). A server in a process of its own serves them on loopback under ``--pages`` article
URLs (copy ``n`` of a page gets its own canonical link and the number in every paragraph, so no copy
is a duplicate of another), listed by RSS feeds of 100 items that a sitemap index names. Then, in
turn, each in a fresh ``python`` process:

1. the crawl with the extraction pool (``NEWSCLEAN_WORKERS``, the number of cores by default);
2. the same crawl with the pool off (``NEWSCLEAN_WORKERS=0``: extraction inline);
3. with ``--rss-pages``, the crawl with the pool again over that many pages, for its memory only.

Each crawl is the ``sitemap`` spider with every pipeline on, AutoThrottle off, no download delay and
``--concurrency`` requests at a time. Pages per second are article pages over the crawl's own
elapsed time (Scrapy's ``elapsed_time_seconds``: engine start to spider closed, worker start-up
included); the process's wall time is printed beside it. Peak RSS is the crawl process's peak plus
its workers' (each counted at the largest worker's peak: an upper bound), from ``getrusage``.

Also, in this process, a plain loop of :func:`newsclean.extraction.extract` (extraction and language
detection) over a sample of the same pages (``--loop-pages``, spread over every source page). The
last line is ``ratio X.XX``: the pool crawl's pages/s over the plain loop's pages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "news.bench.example"
FEED_ITEMS = 100
_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.IGNORECASE)
_PARAGRAPH = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)


def article_url(n: int) -> str:
    return f"https://{HOST}/articles/{n}"


@dataclass
class BenchSite:
    """The benchmark's pages: copy ``n`` of source page ``n % len(pages)``."""

    pages: list[bytes]
    count: int

    def article(self, n: int) -> bytes:
        """Copy ``n``: its own canonical URL and its number in every paragraph, so no two are alike."""
        html = self.pages[n % len(self.pages)]
        link = f'<link rel="canonical" href="{article_url(n)}">'.encode()
        html, found = _CANONICAL.subn(link, html, count=1)
        if not found:
            html = html.replace(b"</head>", link + b"</head>", 1)
        return _PARAGRAPH.sub(lambda m: m.group(0) + b"Copy %d. " % n, html)

    def feed(self, total: int, k: int) -> bytes:
        """Feed ``k`` of the crawl of the first ``total`` articles."""
        items = "".join(
            f"<item><title>Article {n}</title><link>{article_url(n)}</link></item>"
            for n in range(k * FEED_ITEMS, min(total, (k + 1) * FEED_ITEMS))
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench {k}</title>'
            f"<link>https://{HOST}/</link>{items}</channel></rss>"
        ).encode()

    def sitemap_index(self, total: int) -> bytes:
        """The feeds listing the first ``total`` articles."""
        feeds = "".join(
            f"<sitemap><loc>https://{HOST}/feeds/{total}-{k}.xml</loc></sitemap>"
            for k in range((total + FEED_ITEMS - 1) // FEED_ITEMS)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{feeds}</sitemapindex>'
        ).encode()

    def route(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a mirror path ``/<host>/<path>``."""
        path = path.removeprefix(f"/{HOST}")
        if m := re.fullmatch(r"/articles/(\d+)", path):
            if int(m.group(1)) < self.count:
                return 200, "text/html; charset=utf-8", self.article(int(m.group(1)))
        elif m := re.fullmatch(r"/feeds/(\d+)-(\d+)\.xml", path):
            return 200, "application/rss+xml; charset=utf-8", self.feed(int(m.group(1)), int(m.group(2)))
        elif m := re.fullmatch(r"/sitemap-(\d+)\.xml", path):
            return 200, "application/xml; charset=utf-8", self.sitemap_index(int(m.group(1)))
        elif path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        return 404, "text/plain", b"not found"


def load_pages(data_dir: Path) -> list[bytes]:
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    return [gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes()) for key in sorted(truth)]


# The loopback server: asyncio, HTTP/1.1 keep-alive, in a process of its own --------------------------


def _serve(site: BenchSite, port_out: Any) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                status, kind, body = site.route(head.split(b" ", 2)[1].decode("latin-1"))
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                    % (status, b"OK" if status == 200 else b"Not Found", kind.encode(), len(body))
                    + body
                )
                await writer.drain()
                if b"connection: close" in head.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        port_out.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


class Server:
    """The benchmark site on loopback, in a child process (it must not share the crawl's GIL)."""

    def __init__(self, site: BenchSite) -> None:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_serve, args=(site, send), daemon=True)
        self.proc.start()
        self.url = f"http://127.0.0.1:{receive.recv()}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join()


# One crawl, in a child process -----------------------------------------------------------------------


def crawl_child(mirror: str, pages: int, db: str, workers: int, concurrency: int, out: str) -> None:
    """Crawl the first ``pages`` articles with the sitemap spider; write stats and peak RSS to ``out``."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsclean.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.update(
        {
            "NEWSCLEAN_MIRROR": mirror,
            "NEWSCLEAN_DB": db,
            "NEWSCLEAN_WORKERS": workers,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "LOG_LEVEL": "ERROR",  # not one line per dropped duplicate
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("sitemap")
    process.crawl(crawler, sitemap=f"https://{HOST}/sitemap-{pages}.xml")
    process.start()
    assert crawler.stats is not None
    stats = {k: (v if isinstance(v, int | float | str) else str(v)) for k, v in crawler.stats.get_stats().items()}
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "stats": stats,
        "self_kb": own.ru_maxrss,
        "worker_kb": children.ru_maxrss,  # the largest worker's peak
        "self_cpu": own.ru_utime + own.ru_stime,
        "worker_cpu": children.ru_utime + children.ru_stime,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


@dataclass
class CrawlResult:
    pages: int
    elapsed: float
    wall: float
    stored: int
    self_mb: float
    worker_mb: float
    workers: int
    self_cpu: float
    worker_cpu: float
    stats: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.pages / self.elapsed

    @property
    def peak_mb(self) -> float:
        return self.self_mb + self.workers * self.worker_mb

    def summary(self) -> str:
        errors = {k.rsplit("/", 1)[1]: v for k, v in self.stats.items() if k.startswith("newsclean/errors/")}
        dropped = {k.rsplit("/", 1)[1]: v for k, v in self.stats.items() if k.startswith("newsclean/dropped/")}
        return (
            f"{self.rate:6.1f} pages/s  ({self.pages} pages in {self.elapsed:.1f} s; process wall {self.wall:.1f} s, "
            f"{self.pages / self.wall:.1f} pages/s)  stored {self.stored}  dropped {dropped or 0}  errors {errors or 0}"
            f"\n    CPU: crawl process {self.self_cpu:.1f} s, workers {self.worker_cpu:.1f} s"
        )

    def rss(self) -> str:
        if not self.workers:
            return f"{self.peak_mb:.0f} MB (crawl process; no workers)"
        return (
            f"{self.peak_mb:.0f} MB (crawl process {self.self_mb:.0f} MB + {self.workers} workers "
            f"x {self.worker_mb:.0f} MB)"
        )


def run_crawl(mirror: str, pages: int, workers: int | None, concurrency: int) -> CrawlResult:
    from newsclean.workers import default_workers

    workers = default_workers() if workers is None else workers
    with tempfile.TemporaryDirectory(prefix="newsclean-bench-") as tmp:
        db, out = Path(tmp) / "bench.sqlite", Path(tmp) / "result.json"
        args = [mirror, str(pages), str(db), str(workers), str(concurrency), str(out)]
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", *args], cwd=ROOT, check=True)
        wall = time.perf_counter() - start
        result = json.loads(out.read_text(encoding="utf-8"))
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    stats = result["stats"]
    return CrawlResult(
        pages=pages,
        elapsed=float(stats["elapsed_time_seconds"]),
        wall=wall,
        stored=stored,
        self_mb=result["self_kb"] / 1024,
        worker_mb=result["worker_kb"] / 1024,
        workers=workers,
        self_cpu=result["self_cpu"],
        worker_cpu=result["worker_cpu"],
        stats=stats,
    )


def plain_loop(site: BenchSite, sample: list[int]) -> float:
    """Pages per second of newsclean's extraction and language detection, one page after another."""
    from newsclean.extraction import extract

    for n in sample[:3]:  # warm-up: imports, langdetect's profiles
        extract(site.article(n), article_url(n))
    bodies = [(site.article(n), article_url(n)) for n in sample]
    start = time.perf_counter()
    for html, url in bodies:
        extract(html, url)
    return len(bodies) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        mirror, pages, db, workers, concurrency, out = argv[1:]
        crawl_child(mirror, int(pages), db, int(workers), int(concurrency), out)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--pages", type=int, default=3000, help="article URLs to crawl")
    ap.add_argument("--rss-pages", type=int, default=0, help="then crawl this many too, to compare peak RSS")
    ap.add_argument("--workers", type=int, help="extraction workers (default: the number of cores)")
    ap.add_argument("--concurrency", type=int, default=32, help="CONCURRENT_REQUESTS (and per domain)")
    ap.add_argument("--loop-pages", type=int, default=0, help="pages in the plain loop (default: 3 per source page)")
    args = ap.parse_args(argv)

    pages = load_pages(args.data_dir)
    count = max(args.pages, args.rss_pages)
    site = BenchSite(pages, count)
    loop_pages = args.loop_pages or 3 * len(pages)
    sample = list(range(min(loop_pages, args.pages)))  # every source page equally often, as in the crawl
    server = Server(site)
    try:
        print(f"{len(pages)} source pages from {args.data_dir}; serving {count} article URLs at {server.url}")
        loop_rate = plain_loop(site, sample)
        print(f"plain loop (extract + language, one process): {loop_rate:6.1f} pages/s  ({len(sample)} pages)")
        pool = run_crawl(server.url, args.pages, args.workers, args.concurrency)
        print(f"crawl with pool ({pool.workers} workers): {pool.summary()}")
        inline = run_crawl(server.url, args.pages, 0, args.concurrency)
        print(f"crawl, pool off (inline):   {inline.summary()}")
        print(f"peak RSS, {args.pages} pages: pool {pool.rss()}; pool off {inline.rss()}")
        if args.rss_pages:
            big = run_crawl(server.url, args.rss_pages, args.workers, args.concurrency)
            print(f"crawl with pool, {args.rss_pages} pages: {big.summary()}")
            print(f"peak RSS, {args.pages} pages vs {args.rss_pages} pages: {pool.peak_mb:.0f} MB vs {big.rss()}")
    finally:
        server.stop()
    print(f"pool / pool off: {pool.rate / inline.rate:.2f}x")
    print(f"ratio {pool.rate / loop_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
