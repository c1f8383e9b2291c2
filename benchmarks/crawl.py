"""Benchmark a whole crawl: loopback site, real Scrapy engine, full pipelines into SQLite.

    python benchmarks/crawl.py DATA_DIR [--pages 3000] [--rss-pages 20000] [--rounds 3] [--workers N]

DATA_DIR holds ``ground-truth.json`` (id -> {"url", ...}) and ``html/<id>.html.gz`` (the dev
benchmark pages). A server in a process of its own serves them on loopback under ``--pages`` article
URLs (copy ``n`` of a page gets its own canonical link and the number in every paragraph, so no copy
is a duplicate of another), listed by RSS feeds of 100 items that a sitemap index names. Then, in
turn, each in a fresh ``python`` process:

1. the crawl with the extraction pool (``NEWSCLEAN_WORKERS``, the number of cores by default),
   ``--rounds`` times;
2. the same crawl with the pool off (``NEWSCLEAN_WORKERS=0``: extraction inline);
3. with ``--rss-pages``, the crawl with the pool again over that many pages, for its memory.

Each crawl is the ``sitemap`` spider with every pipeline on, AutoThrottle off, no download delay and
``--concurrency`` requests at a time. Pages per second are article pages over the crawl's own
elapsed time (Scrapy's ``elapsed_time_seconds``: engine start to spider closed, worker start-up
included); the process's wall time is printed beside it.

Memory is read from ``/proc`` every ``SAMPLE_EVERY`` seconds while a crawl runs: the resident sets
(VmRSS) of the crawl process and of every process under it (the workers) are summed, and the
largest sum is the peak RSS. Beside it, the sum of each process's own peak (VmHWM, the kernel's
high-water mark): an upper bound, as if every process peaked at the same moment. (``getrusage``'s
``ru_maxrss`` is no use here: a process started by ``fork`` + ``exec`` inherits its parent's peak,
so a crawl started from this process, which holds every page, would report this process's size.)

The plain loop is :func:`newsclean.extraction.extract` (extraction and language detection), in this
process, one page after another, over a sample of the same pages (``--loop-pages``, every source
page equally often), given as the crawl gives them (bytes, the server's charset, the rules the crawl
resolves for them). The crawl with the pool runs ``--rounds`` times, each time between two runs of
the loop, and each round's ratio is its pages/s over the mean of those two: on a shared machine,
whose speed drifts by several per cent within a minute, that is the speed of the machine the crawl
ran on. Every round is printed; the last line is ``ratio X.XX``, the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import multiprocessing
import os
import re
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEED_ITEMS = 100
CHARSET = "utf-8"
SAMPLE_EVERY = 0.05
# The targets on 2 cores.
TARGET_RATIO = 1.7
TARGET_CLUSTER_SHARE = 0.05  # wire-copy clustering: at most this share of extraction time a page
TARGET_RSS_MB = 400
_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.IGNORECASE)
_PARAGRAPH = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)


@dataclass
class BenchSite:
    """The benchmark's pages at ``base``: article ``n`` is a copy of source page ``n % len(pages)``."""

    pages: list[bytes]
    count: int
    base: str

    def article_url(self, n: int) -> str:
        return f"{self.base}/articles/{n}"

    def article(self, n: int) -> bytes:
        """Copy ``n``: its own canonical URL and its number in every paragraph, so no two are alike."""
        html = self.pages[n % len(self.pages)]
        link = f'<link rel="canonical" href="{self.article_url(n)}">'.encode()
        html, found = _CANONICAL.subn(link, html, count=1)
        if not found:
            html = html.replace(b"</head>", link + b"</head>", 1)
        return _PARAGRAPH.sub(lambda m: m.group(0) + b"Copy %d. " % n, html)

    def feed(self, total: int, k: int) -> bytes:
        """Feed ``k`` of the crawl of the first ``total`` articles."""
        items = "".join(
            f"<item><title>Article {n}</title><link>{self.article_url(n)}</link></item>"
            for n in range(k * FEED_ITEMS, min(total, (k + 1) * FEED_ITEMS))
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench {k}</title>'
            f"<link>{self.base}/</link>{items}</channel></rss>"
        ).encode()

    def sitemap_index(self, total: int) -> bytes:
        """The feeds listing the first ``total`` articles."""
        feeds = "".join(
            f"<sitemap><loc>{self.base}/feeds/{total}-{k}.xml</loc></sitemap>"
            for k in range((total + FEED_ITEMS - 1) // FEED_ITEMS)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{feeds}</sitemapindex>'
        ).encode()

    def route(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for ``path``."""
        if m := re.fullmatch(r"/articles/(\d+)", path):
            if int(m.group(1)) < self.count:
                return 200, f"text/html; charset={CHARSET}", self.article(int(m.group(1)))
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


def _serve(site: BenchSite, sock: socket.socket) -> None:
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
        server = await asyncio.start_server(handle, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


class Server:
    """The benchmark site on loopback, in a child process (it must not share the crawl's GIL)."""

    def __init__(self, pages: list[bytes], count: int) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.site = BenchSite(pages, count, self.url)
        self.proc = multiprocessing.get_context("fork").Process(target=_serve, args=(self.site, sock), daemon=True)
        self.proc.start()
        sock.close()  # the server process holds its own copy

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join()


# Memory of a process tree, sampled from /proc -------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB; empty when it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines) if k in ("VmRSS", "VmHWM")}


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process under it, from ``/proc/<pid>/task/<tid>/children``."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # that thread has ended
                todo.extend(int(c) for c in children.read_text().split())
    return found


class TreeMemory(threading.Thread):
    """Peak of the summed RSS of a process and its descendants, and each process's own peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            total = 0
            for pid in _descendants(self.pid):
                status = _status_kb(pid)
                total += status.get("VmRSS", 0)
                if "VmHWM" in status:
                    self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), status["VmHWM"])
            self.peak_kb = max(self.peak_kb, total)
            self._done.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._done.set()
        self.join()

    @property
    def worker_hwm_kb(self) -> list[int]:
        """Each process under the crawl process (workers, also replaced ones): its own peak."""
        return sorted((kb for pid, kb in self.hwm_kb.items() if pid != self.pid), reverse=True)


# One crawl, in a child process -----------------------------------------------------------------------


def crawl_child(base: str, pages: int, db: str, workers: int, concurrency: int, out: str) -> None:
    """Crawl the first ``pages`` articles with the sitemap spider; write stats and CPU times to ``out``."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsclean.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.update(
        {
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
    process.crawl(crawler, sitemap=f"{base}/sitemap-{pages}.xml")
    process.start()
    assert crawler.stats is not None
    stats = {k: (v if isinstance(v, int | float | str) else str(v)) for k, v in crawler.stats.get_stats().items()}
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "stats": stats,
        "self_hwm_kb": _status_kb(os.getpid())["VmHWM"],  # this process's own peak, exactly
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
    peak_mb: float  # largest sampled sum of the crawl process's and its workers' RSS
    self_mb: float  # the crawl process's own peak
    worker_mb: list[float]  # each worker's own peak, largest first
    workers: int
    self_cpu: float
    worker_cpu: float
    stats: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.pages / self.elapsed

    @property
    def bound_mb(self) -> float:
        """Sum of every process's own peak: what the peak would be if all peaked at once."""
        return self.self_mb + sum(self.worker_mb)

    def summary(self) -> str:
        from newsclean import stats

        errors, dropped = stats.under(self.stats, stats.ERRORS), stats.under(self.stats, stats.DROPPED)
        return (
            f"{self.rate:6.1f} pages/s  ({self.pages} pages in {self.elapsed:.1f} s; process wall {self.wall:.1f} s, "
            f"{self.pages / self.wall:.1f} pages/s)  stored {self.stored}  dropped {dropped or 0}  errors {errors or 0}"
            f"\n    CPU per page: crawl process {1000 * self.self_cpu / self.pages:.1f} ms, "
            f"workers {1000 * self.worker_cpu / self.pages:.1f} ms"
        )

    def rss(self) -> str:
        if not self.worker_mb:
            return f"{self.peak_mb:.0f} MB (crawl process alone; its own peak {self.self_mb:.0f} MB)"
        workers = " + ".join(f"{mb:.0f}" for mb in self.worker_mb)
        return (
            f"{self.peak_mb:.0f} MB (sum of each process's own peak: {self.bound_mb:.0f} MB = crawl process "
            f"{self.self_mb:.0f} MB + workers {workers} MB)"
        )


def run_crawl(base: str, pages: int, workers: int | None, concurrency: int) -> CrawlResult:
    from newsclean.config import default_workers

    workers = default_workers() if workers is None else workers
    with tempfile.TemporaryDirectory(prefix="newsclean-bench-") as tmp:
        db, out = Path(tmp) / "bench.sqlite", Path(tmp) / "result.json"
        args = [base, str(pages), str(db), str(workers), str(concurrency), str(out)]
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--child", *args], cwd=ROOT)
        memory = TreeMemory(child.pid)
        memory.start()
        code = child.wait()
        wall = time.perf_counter() - start
        memory.stop()
        if code:
            raise subprocess.CalledProcessError(code, child.args)
        result = json.loads(out.read_text(encoding="utf-8"))
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    stats = result["stats"]
    return CrawlResult(
        pages=pages,
        elapsed=float(stats["elapsed_time_seconds"]),
        wall=wall,
        stored=stored,
        peak_mb=memory.peak_kb / 1024,
        self_mb=result["self_hwm_kb"] / 1024,
        worker_mb=[kb / 1024 for kb in memory.worker_hwm_kb],
        workers=workers,
        self_cpu=result["self_cpu"],
        worker_cpu=result["worker_cpu"],
        stats=stats,
    )


def plain_loop(site: BenchSite, sample: list[int]) -> float:
    """Pages per second of newsclean's extraction and language detection, one page after another."""
    from newsclean.extraction import extract

    pages = [(site.article(n), site.article_url(n)) for n in sample]
    for html, url in pages[:3]:  # warm-up: langdetect's profiles, lazy imports
        extract(html, url, encoding=CHARSET)
    start = time.perf_counter()
    for html, url in pages:
        extract(html, url, encoding=CHARSET)  # rules looked up by URL, as a crawl's worker does
    return len(pages) / (time.perf_counter() - start)


def cluster_cost(site: BenchSite, sample: list[int]) -> tuple[float, float, int]:
    """Seconds a page of extraction, and of wire-copy clustering (``clusters.assign``: signature, band
    lookup, comparisons, writes) against a store that already holds the sample's articles, each in a
    transaction rolled back so that every page meets the same store; and the store's size."""
    import dataclasses

    from newsclean import store
    from newsclean.extraction import extract
    from newsclean.store import clusters

    with (
        tempfile.TemporaryDirectory(prefix="newsclean-bench-") as tmp,
        contextlib.closing(store.connect(Path(tmp) / "clusters.sqlite")) as conn,
    ):
        rows = []
        start = time.perf_counter()
        for n in sample:
            article = extract(site.article(n), site.article_url(n), encoding=CHARSET).article
            if article is not None:
                rows.append(store.to_row(dataclasses.asdict(article)))
        extraction = (time.perf_counter() - start) / len(sample)
        for i, row in enumerate(rows):  # the store the pages meet: every one of them, at other URLs
            store.save_article(conn, {**row, "canonical_url": f"{row['canonical_url']}?copy={i}"})
        start = time.perf_counter()
        for row in rows:
            clusters.assign(conn, row)
            conn.rollback()
        clustering = (time.perf_counter() - start) / max(len(rows), 1)
        return extraction, clustering, len(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        base, pages, db, workers, concurrency, out = argv[1:]
        crawl_child(base, int(pages), db, int(workers), int(concurrency), out)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--pages", type=int, default=3000, help="article URLs to crawl")
    ap.add_argument("--rss-pages", type=int, default=0, help="then crawl this many too, to compare peak RSS")
    ap.add_argument("--workers", type=int, help="extraction workers (default: the number of cores)")
    ap.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS (and per domain)")
    ap.add_argument("--loop-pages", type=int, default=0, help="pages in the plain loop (default: 3 per source page)")
    ap.add_argument("--rounds", type=int, default=3, help="crawls with the pool, each between two plain loops")
    args = ap.parse_args(argv)

    pages = load_pages(args.data_dir)
    server = Server(pages, max(args.pages, args.rss_pages))
    site = server.site
    sample = list(range(min(args.loop_pages or 3 * len(pages), args.pages)))  # each source page equally often
    try:
        print(f"{len(pages)} source pages from {args.data_dir}; serving {site.count} article URLs at {server.url}")
        loop_rates = [plain_loop(site, sample)]
        print(f"plain loop (extract + language, one process): {loop_rates[0]:6.1f} pages/s  ({len(sample)} pages)")
        pools, ratios = [], []
        for round_ in range(1, args.rounds + 1):
            pool = run_crawl(server.url, args.pages, args.workers, args.concurrency)
            loop_rates.append(plain_loop(site, sample))
            ratios.append(pool.rate / ((loop_rates[-2] + loop_rates[-1]) / 2))
            pools.append(pool)
            print(f"round {round_}: crawl with pool ({pool.workers} workers): {pool.summary()}")
            print(
                f"    plain loop after it: {loop_rates[-1]:6.1f} pages/s; ratio to the loop's mean before and "
                f"after: {ratios[-1]:.2f}"
            )
        inline = run_crawl(server.url, args.pages, 0, args.concurrency)
        print(f"crawl, pool off (inline):   {inline.summary()}")
        pool = max(pools, key=lambda r: r.bound_mb)
        print(f"peak RSS, {args.pages} pages: pool {pool.rss()}; pool off {inline.rss()}")
        peaks = [(args.pages, pool)]
        if args.rss_pages:
            big = run_crawl(server.url, args.rss_pages, args.workers, args.concurrency)
            print(f"crawl with pool, {args.rss_pages} pages: {big.summary()}")
            print(f"peak RSS, {args.rss_pages} pages: pool {big.rss()}")
            peaks.append((args.rss_pages, big))
        extraction, clustering, stored = cluster_cost(site, sample)
        print(
            f"wire-copy clustering: {clustering * 1000:.2f} ms an article against a store of {stored}, "
            f"{clustering / extraction:.1%} of extraction's {extraction * 1000:.1f} ms a page "
            f"(<= {TARGET_CLUSTER_SHARE:.0%}: {'met' if clustering / extraction <= TARGET_CLUSTER_SHARE else 'MISSED'})"
        )
    finally:
        server.stop()
    ratio = statistics.median(ratios)
    rate = statistics.median(p.rate for p in pools)
    worst = max(max(r.peak_mb, r.bound_mb) for _, r in peaks)
    print(f"pool / pool off: {rate / inline.rate:.2f}x")
    print(
        f"targets: ratio {ratio:.2f} (median of {', '.join(f'{r:.2f}' for r in ratios)}; "
        f">= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}); peak RSS "
        + ", ".join(f"{n} pages {r.peak_mb:.0f} MB (bound {r.bound_mb:.0f})" for n, r in peaks)
        + f" (<= {TARGET_RSS_MB} MB: {'met' if worst <= TARGET_RSS_MB else 'MISSED'})"
    )
    print(f"ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
