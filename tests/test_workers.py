"""The extraction pool: results equal inline extraction; a crash or a hang costs one page; clean shutdown.

Faults come from the test-only setting ``NEWSCLEAN_WORKER_FAULTS`` (``ExtractionPool(faults=...)``):
a worker kills itself with SIGSEGV, sleeps for good, or sleeps ``SLOW_SECONDS``, on a page whose URL
matches.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from newsclean.crawl.faults import SLOW_SECONDS
from newsclean.crawl.pool import ExtractionPool, PoolClosedError, WorkerCrashError, WorkerTimeoutError
from newsclean.extraction import extract
from newsclean.fixtures import load_fixtures

from .conftest import ROOT
from .helpers import crawl_cmd, latest_run, rows, run

pytestmark = pytest.mark.crawl  # worker processes, and whole crawls

ARTICLES = [f for f in load_fixtures() if f.kind == "article"][:4]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; it only waits for its parent to collect its status.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _gone(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


async def _extract_all(pool: ExtractionPool, pages: list[tuple[bytes, str]]) -> list[Any]:
    return await asyncio.gather(*(pool.extract(html, url) for html, url in pages), return_exceptions=True)


def test_pool_gives_what_inline_extraction_gives() -> None:
    pages = [(f.body(), f.url) for f in ARTICLES]
    pool = ExtractionPool(2, timeout=60)
    try:
        results = asyncio.run(_extract_all(pool, pages))
    finally:
        pool.close()
    assert [r.article for r in results] == [extract(html, url).article for html, url in pages]


def test_crash_costs_that_page_alone_and_the_worker_is_replaced() -> None:
    pages = [(f.body(), f.url) for f in ARTICLES]
    crashing = (pages[0][0], "https://crash.example/2024/boom")
    pool = ExtractionPool(2, timeout=60, faults={"crash": r"crash\.example"})
    try:
        first = pool.pids
        results = asyncio.run(_extract_all(pool, [crashing, *pages, crashing, *pages]))
        # A worker that crashed with no page waiting is started again when a page needs it: two more
        # pages, and both places have a live worker whatever the order the pages were served in.
        asyncio.run(_extract_all(pool, pages[:2]))
        after = pool.pids
    finally:
        pool.close()
    assert isinstance(results[0], WorkerCrashError)
    assert isinstance(results[len(pages) + 1], WorkerCrashError)
    good = [r for i, r in enumerate(results) if i not in (0, len(pages) + 1)]
    assert all(r.article is not None for r in good)
    assert len(after) == 2
    assert set(after) != set(first)  # the crashed workers were replaced
    assert _gone(first + after)


def test_hang_past_the_timeout_costs_that_page_alone() -> None:
    pages = [(f.body(), f.url) for f in ARTICLES]
    pool = ExtractionPool(2, timeout=5.0, faults={"hang": r"hang\.example"})
    try:
        hung_pids = pool.start().pids
        start = time.monotonic()
        results = asyncio.run(_extract_all(pool, [(pages[0][0], "https://hang.example/x"), *pages]))
        took = time.monotonic() - start
        assert isinstance(results[0], WorkerTimeoutError)
        assert all(r.article is not None for r in results[1:])
        assert took < 40
        assert len(pool.pids) == 2
        # The hung worker was killed, not left behind.
        assert sum(_alive(p) for p in hung_pids) == 1
    finally:
        pool.close()


def test_a_page_waiting_behind_a_crash_goes_to_the_new_worker() -> None:
    # One worker: the second page sits in the worker's pipe while the first one kills it.
    good = [(f.body(), f.url) for f in ARTICLES[:2]]
    pool = ExtractionPool(1, timeout=60, faults={"crash": r"crash\.example"})
    try:
        results = asyncio.run(_extract_all(pool, [(good[0][0], "https://crash.example/1"), *good]))
    finally:
        pool.close()
    assert isinstance(results[0], WorkerCrashError)
    assert [r.article for r in results[1:]] == [extract(html, url).article for html, url in good]


def test_a_worker_that_cannot_start_fails_each_page_once_and_is_not_restarted_idly() -> None:
    # An invalid fault pattern makes every worker die while it starts, as a broken install would.
    pool = ExtractionPool(1, timeout=60, faults={"crash": "["})
    pages = [(f.body(), f.url) for f in ARTICLES[:2]]

    async def run() -> tuple[list[Any], int, int]:
        results = await _extract_all(pool, pages)
        started = len(pool.started_pids)
        await asyncio.sleep(1.5)  # the loop runs on, with no page waiting
        return results, started, len(pool.started_pids)

    try:
        results, started, later = asyncio.run(run())
    finally:
        pool.close()
    assert all(isinstance(r, WorkerCrashError) for r in results), results
    assert started <= 1 + len(pages)
    assert later == started  # no worker started again for nothing


def test_the_timeout_runs_from_when_the_worker_starts_a_page() -> None:
    # Each page takes SLOW_SECONDS and a little; the second waits as long in the pipe before the
    # worker starts it. Counted from when it was sent, it would take twice the time and time out.
    html, url = ARTICLES[0].body(), ARTICLES[0].url
    pool = ExtractionPool(1, timeout=SLOW_SECONDS + 2.0, faults={"slow": r"slow\.example"})

    async def run() -> list[Any]:
        await pool.extract(html, url)  # warm: the first page loads what extraction loads lazily
        slow = [pool.extract(html, f"https://slow.example/{i}") for i in range(3)]
        return await asyncio.gather(*slow, return_exceptions=True)

    try:
        results = asyncio.run(run())
    finally:
        pool.close()
    assert all(not isinstance(r, BaseException) and r.article is not None for r in results), results


def test_the_pool_runs_on_the_event_loop_without_threads() -> None:
    pages = [(f.body(), f.url) for f in ARTICLES]
    before = threading.active_count()
    pool = ExtractionPool(2, timeout=60)
    try:
        pool.start()

        async def run() -> tuple[list[Any], int]:
            results = await _extract_all(pool, pages)
            return results, threading.active_count()

        results, during = asyncio.run(run())
    finally:
        pool.close()
    assert all(r.article is not None for r in results)
    assert during == before


def test_close_fails_waiting_pages_and_leaves_no_process() -> None:
    pool = ExtractionPool(1, timeout=60, faults={"hang": r"hang\.example"})

    async def run() -> list[Any]:
        tasks = [asyncio.ensure_future(pool.extract("<html></html>", f"https://hang.example/{i}")) for i in range(3)]
        await asyncio.sleep(1.0)  # the first page is in the worker, hung; two wait in the queue
        pool.close()
        return await asyncio.gather(*tasks, return_exceptions=True)

    pids = pool.start().pids
    results = asyncio.run(run())
    assert all(isinstance(r, PoolClosedError) for r in results)
    assert _gone(pids)
    with pytest.raises(PoolClosedError):
        asyncio.run(pool.extract("<html></html>", "https://a.example/"))


# Whole crawls, as `scrapy crawl` subprocesses ------------------------------------------------------


def _crawl(mirror: str, db: Path, env: dict[str, str], *settings: str) -> subprocess.CompletedProcess[str]:
    return run(crawl_cmd("themoscowtimes", mirror, db, *settings), env, check=False)


def _rows(db: Path) -> dict[str, dict[str, Any]]:
    """The stored rows, but when each was fetched and the id of its wire-copy cluster (a drift fixture
    and its original share a cluster named after whichever was stored first: the order of arrival)."""
    stored = rows(db)
    for row in stored.values():
        row.pop("fetched_at")
        row.pop("cluster")
    return stored


def _worker_pids(log: str) -> list[int]:
    found = re.search(r"extraction pool: \d+ workers \(pids ([\d ]+)\)", log)
    assert found, log[-3000:]
    return [int(p) for p in found.group(1).split()]


def test_crawl_with_pool_stores_what_inline_stores_and_leaves_no_process(
    mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    inline = _crawl(mirror, tmp_path / "inline.sqlite", run_env, "NEWSCLEAN_WORKERS=0")
    pooled = _crawl(mirror, tmp_path / "pool.sqlite", run_env, "NEWSCLEAN_WORKERS=2")
    assert inline.returncode == 0, inline.stderr[-3000:]
    assert pooled.returncode == 0, pooled.stderr[-3000:]
    assert "extraction pool" not in inline.stderr
    assert _rows(tmp_path / "pool.sqlite") == _rows(tmp_path / "inline.sqlite")
    assert _rows(tmp_path / "pool.sqlite")
    assert _gone(_worker_pids(pooled.stderr))


def test_crawl_counts_a_crashing_page_and_stores_the_rest(mirror: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    inline = _crawl(mirror, tmp_path / "inline.sqlite", run_env, "NEWSCLEAN_WORKERS=0")
    victim = sorted(_rows(tmp_path / "inline.sqlite"))[0]
    crashed = _crawl(
        mirror,
        tmp_path / "pool.sqlite",
        run_env,
        "NEWSCLEAN_WORKERS=2",
        "NEWSCLEAN_WORKER_FAULTS=" + json.dumps({"crash": re.escape(victim) + "$"}),
    )
    assert inline.returncode == 0
    assert crashed.returncode == 0, crashed.stderr[-3000:]
    assert json.loads(latest_run(tmp_path / "pool.sqlite")["errors"]) == {"http_404": 1, "worker_crash": 1}
    expected = _rows(tmp_path / "inline.sqlite")
    del expected[victim]
    assert _rows(tmp_path / "pool.sqlite") == expected


def test_ctrl_c_stops_the_crawl_and_its_workers(mirror: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    # Every article hangs its worker, so the crawl is surely mid-way when SIGINT comes.
    args = ["scrapy", "crawl", "themoscowtimes", "-s", f"NEWSCLEAN_MIRROR={mirror}"]
    args += ["-s", f"NEWSCLEAN_DB={tmp_path / 'store.sqlite'}", "-s", "AUTOTHROTTLE_ENABLED=0"]
    args += ["-s", "NEWSCLEAN_WORKERS=2", "-s", "NEWSCLEAN_WORKER_TIMEOUT=3"]
    args += ["-s", "NEWSCLEAN_WORKER_FAULTS=" + json.dumps({"hang": r"/20\d\d/"})]
    proc = subprocess.Popen(args, cwd=ROOT, env=run_env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    log = ""
    for line in proc.stderr:
        log += line
        if "extraction pool: " in line:
            break
    pids = _worker_pids(log)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    log += rest
    assert "shutting down gracefully" in log.lower(), log[-3000:]
    assert proc.returncode == 0, log[-3000:]
    assert "extraction pool closed" in log, log[-3000:]
    assert _gone(pids), log[-3000:]
