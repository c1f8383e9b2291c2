"""Benchmark a backfill from a WARC file into SQLite, beside newsclean's own loop and trafilatura's CLI.

    python benchmarks/backfill.py DATA_DIR [--pages 3000] [--rss-pages 20000] [--rounds 1] [--workers N]

DATA_DIR holds ``ground-truth.json`` and ``html/<id>.html.gz`` (the dev benchmark pages). The pages
are replicated to ``--pages`` unique articles as ``benchmarks/crawl.py`` makes them (copy ``n`` has
its own canonical URL and its number in every paragraph), then written

- as one WARC file, one gzip member per record, a response record per article (request records
  beside them, as a crawler writes them), with newsclean's :class:`~newsclean.archive.ArchiveWriter`;
- as one ``.html`` file per article, for trafilatura's command line.

Then, each measured on its own:

1. the plain loop: :func:`newsclean.extraction.extract` in this process, one page after another, over
   a sample of the same pages (three per source page), before and after the backfills;
2. the backfill: ``scrapy crawl warc -a path=FILE`` (the ``warc`` spider, every pipeline, SQLite, the
   extraction pool of ``--workers`` processes) in a fresh ``python`` process; pages/s are the WARC's
   pages over the crawl's own elapsed time (engine start to spider closed, worker start-up included);
3. the ceiling: the plain loop in two processes at once (forked from this one, each over the same
   sample, both timed over the same span), their pages/s summed and divided by the mean of the
   plain loop run just before and just after them: what two cores give two processes that do
   nothing but extract, the most any backfill of two processes can reach here (its two workers
   share the cores with the crawl process besides);
4. ``trafilatura --input-dir DIR --output-dir OUT --parallel 2 --json --with-metadata --no-comments``
   over the page files, timed from start to exit (its own start-up included);
5. with ``--rss-pages``, the backfill again over a WARC of that many pages, for its memory.

Peak memory is the largest sum of the resident sets of the process and everything under it, read
from ``/proc`` every 50 ms (see ``benchmarks/crawl.py``). The last line is ``ratio X.XX``: the
backfill's pages/s over the mean of the plain loop before and after it (the median of the rounds).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
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

from benchmarks.crawl import CHARSET, BenchSite, TreeMemory, _status_kb, load_pages, plain_loop  # noqa: E402

BASE = "https://bench.newsclean.invalid"
TARGET_RATIO = 1.8
TARGET_RSS_MB = 400


def write_warc(site: BenchSite, count: int, folder: Path) -> Path:
    """A WARC of the first ``count`` articles (response + request per page, gzip per record)."""
    from newsclean.archive import ArchiveWriter

    writer = ArchiveWriter(folder, max_size=1 << 40, prefix="bench")
    headers = [("Content-Type", f"text/html; charset={CHARSET}")]
    for n in range(count):
        writer.write(site.article_url(n), 200, headers, site.article(n), request_headers=[("User-Agent", "bench")])
    assert writer.path is not None
    path = writer.path
    writer.close()
    return path


def write_files(site: BenchSite, count: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n}.html").write_bytes(site.article(n))


def backfill_child(warc: str, db: str, workers: int, out: str) -> None:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsclean.settings")
    import resource

    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from newsclean.crawl.warc import WarcSpider

    settings = get_project_settings()
    settings.update({"NEWSCLEAN_DB": db, "NEWSCLEAN_WORKERS": workers, "LOG_LEVEL": "ERROR"}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WarcSpider)
    process.crawl(crawler, path=warc)
    process.start()
    assert crawler.stats is not None
    stats = {k: (v if isinstance(v, int | float | str) else str(v)) for k, v in crawler.stats.get_stats().items()}
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "stats": stats,
        "self_hwm_kb": _status_kb(os.getpid())["VmHWM"],
        "self_cpu": own.ru_utime + own.ru_stime,
        "worker_cpu": children.ru_utime + children.ru_stime,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


@dataclass
class Run:
    pages: int
    seconds: float
    wall: float
    peak_mb: float
    bound_mb: float
    stored: int = 0
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def run_backfill(warc: Path, pages: int, workers: int, tmp: Path) -> Run:
    db, out = tmp / "backfill.sqlite", tmp / "backfill.json"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(warc), str(db), str(workers), str(out)], cwd=ROOT
    )
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
        linked = conn.execute("SELECT COUNT(*) FROM raw_pages").fetchone()[0]
    stats = result["stats"]
    workers_mb = " + ".join(f"{kb / 1024:.0f}" for kb in memory.worker_hwm_kb)
    self_mb = result["self_hwm_kb"] / 1024
    bound = self_mb + sum(memory.worker_hwm_kb) / 1024
    errors = {k: v for k, v in stats.items() if "/errors/" in k or "/dropped/" in k}
    detail = (
        f"stored {stored} (raw pages {linked}); CPU per page: crawl process "
        f"{1000 * result['self_cpu'] / pages:.1f} ms, "
        f"workers {1000 * result['worker_cpu'] / pages:.1f} ms; peak RSS {memory.peak_kb / 1024:.0f} MB (each "
        f"process's own peak: crawl process {self_mb:.0f} MB + workers {workers_mb} MB = {bound:.0f} MB)"
        + (f"; {errors}" if errors else "")
    )
    return Run(pages, float(stats["elapsed_time_seconds"]), wall, memory.peak_kb / 1024, bound, stored, detail)


def run_trafilatura(files: Path, tmp: Path, parallel: int) -> Run:
    out = tmp / "trafilatura-out"
    shutil.rmtree(out, ignore_errors=True)
    exe = shutil.which("trafilatura", path=str(Path(sys.executable).parent)) or "trafilatura"
    args = [exe, "--input-dir", str(files), "--output-dir", str(out), "--parallel", str(parallel), "--json",
            "--with-metadata", "--no-comments"]  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    memory = TreeMemory(child.pid)
    memory.start()
    code = child.wait()
    wall = time.perf_counter() - start
    memory.stop()
    if code:
        raise subprocess.CalledProcessError(code, args)
    pages = sum(1 for _ in files.iterdir())
    written = sum(1 for _ in out.rglob("*.json")) if out.exists() else 0
    bound = sum(memory.hwm_kb.values()) / 1024
    # Every page is extracted; trafilatura names a file by a hash of its text's words (numbers left
    # out), so the copies of one source page, which differ in their numbers only, share a file.
    detail = (
        f"{written} JSON files written (one per distinct text); peak RSS {memory.peak_kb / 1024:.0f} MB "
        f"(sum of own peaks {bound:.0f} MB)"
    )
    return Run(pages, wall, wall, memory.peak_kb / 1024, bound, written, detail)


def _loop_until(site: BenchSite, sample: list[int], start: float, stop: float, out: Any) -> None:
    """In a forked process: the plain loop over ``sample`` (again and again) from ``start`` to ``stop``
    (``time.monotonic``), its pages/s sent on ``out``."""
    from newsclean.extraction import extract

    pages = [(site.article(n), site.article_url(n)) for n in sample]
    for html, url in pages[:3]:  # warm-up, as plain_loop
        extract(html, url, encoding=CHARSET)
    time.sleep(max(0.0, start - time.monotonic()))
    done, began = 0, time.monotonic()
    while True:
        for html, url in pages:
            extract(html, url, encoding=CHARSET)
            done += 1
            if time.monotonic() >= stop:
                out.send(done / (time.monotonic() - began))
                return


def two_loops(site: BenchSite, sample: list[int], seconds: float) -> float:
    """The summed pages/s of the plain loop run in two forked processes at the same time, each over
    ``sample`` for the same ``seconds``: the most two processes extracting at once reach here."""
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()  # else each child would write this process's buffered lines again
    start = time.monotonic() + 2.0  # both past their warm-up and set up
    pipes = [context.Pipe(duplex=False) for _ in range(2)]
    children = [
        context.Process(target=_loop_until, args=(site, sample, start, start + seconds, send)) for _, send in pipes
    ]
    for child in children:
        child.start()
    rates = [receive.recv() for receive, _ in pipes]
    for child in children:
        child.join()
    return sum(rates)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        backfill_child(*argv[1:3], int(argv[3]), argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--pages", type=int, default=3000, help="unique article pages in the WARC (at least 3,000)")
    ap.add_argument("--rss-pages", type=int, default=0, help="then backfill this many too, to compare peak RSS")
    ap.add_argument("--workers", type=int, help="extraction workers (default: the number of cores)")
    ap.add_argument("--parallel", type=int, default=2, help="trafilatura's --parallel (default 2)")
    ap.add_argument("--rounds", type=int, default=1, help="backfills, each between two plain loops")
    ap.add_argument("--keep", type=Path, help="write the WARC and page files here and keep them")
    args = ap.parse_args(argv)
    from newsclean.config import default_workers

    workers = default_workers() if args.workers is None else args.workers
    pages = load_pages(args.data_dir)
    site = BenchSite(pages, max(args.pages, args.rss_pages), BASE)
    sample = list(range(3 * len(pages)))
    with tempfile.TemporaryDirectory(prefix="newsclean-backfill-") as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        warc = write_warc(site, args.pages, tmp / "warc")
        write_files(site, args.pages, tmp / "pages")
        print(
            f"{len(pages)} source pages from {args.data_dir}; {args.pages} unique pages written as {warc.name} "
            f"({warc.stat().st_size / 1e6:.1f} MB) and as files, in {time.perf_counter() - started:.1f} s"
        )
        loops = [plain_loop(site, sample)]
        print(f"plain loop (extract + language, one process): {loops[0]:6.1f} pages/s  ({len(sample)} pages)")
        ratios, runs = [], []
        for round_ in range(1, args.rounds + 1):
            run = run_backfill(warc, args.pages, workers, tmp)
            loops.append(plain_loop(site, sample))
            ratios.append(run.rate / ((loops[-2] + loops[-1]) / 2))
            runs.append(run)
            print(
                f"round {round_}: backfill ({workers} workers): {run.rate:6.1f} pages/s ({run.pages} pages in "
                f"{run.seconds:.1f} s; process wall {run.wall:.1f} s)\n    {run.detail}\n"
                f"    plain loop after it: {loops[-1]:6.1f} pages/s; ratio to the loop's mean before and after: "
                f"{ratios[-1]:.2f}"
            )
        single = [plain_loop(site, sample)]  # the machine's speed at the time, as for each round
        both = two_loops(site, sample, len(sample) / single[0])
        single.append(plain_loop(site, sample))
        ceiling = both / (sum(single) / 2)
        print(
            f"two plain loops at once: {both:6.1f} pages/s = {ceiling:.2f} x one loop ({single[0]:.1f} / "
            f"{single[1]:.1f} pages/s before / after) (the most any 2-process backfill can reach here)"
        )
        traf = run_trafilatura(tmp / "pages", tmp, args.parallel)
        print(
            f"trafilatura --parallel {args.parallel} --json --with-metadata --no-comments: {traf.rate:6.1f} pages/s "
            f"({traf.pages} files in {traf.seconds:.1f} s)\n    {traf.detail}"
        )
        peaks = [(args.pages, max(runs, key=lambda r: r.bound_mb))]
        if args.rss_pages:
            big_warc = write_warc(site, args.rss_pages, tmp / "warc-big")
            big = run_backfill(big_warc, args.rss_pages, workers, tmp)
            print(f"backfill, {args.rss_pages} pages: {big.rate:6.1f} pages/s ({big.seconds:.1f} s)\n    {big.detail}")
            peaks.append((args.rss_pages, big))
    ratios.sort()
    ratio = ratios[len(ratios) // 2]
    rate = sorted(r.rate for r in runs)[len(runs) // 2]
    worst = max(max(r.peak_mb, r.bound_mb) for _, r in peaks)
    print(
        f"targets: ratio {ratio:.2f} (>= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}); "
        f"backfill / trafilatura CLI {rate / traf.rate:.2f} (>= 1: {'met' if rate >= traf.rate else 'MISSED'}); "
        "peak RSS "
        + ", ".join(f"{n} pages {r.peak_mb:.0f} MB (bound {r.bound_mb:.0f})" for n, r in peaks)
        + f" (< {TARGET_RSS_MB} MB: {'met' if worst < TARGET_RSS_MB else 'MISSED'})"
    )
    print(f"ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
