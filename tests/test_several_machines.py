"""Running on several machines, for real: crawls into PostgreSQL, a run lock every host sees, and one
big crawl shared by several ``scrapy crawl`` processes through a Redis frontier (real servers, real
processes, a 2,000-page loopback site)."""

from __future__ import annotations

import itertools
import json
import re
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from newsclean.article import ARTICLE_FIELDS

from .bulksite import BulkSite, article_url, serve_bulk
from .conftest import ROOT

pytestmark = pytest.mark.crawl
PAGES = 2000


def _rows(target: str) -> dict[str, dict[str, Any]]:
    query = "SELECT * FROM articles"
    if target.startswith("postgresql://"):
        with psycopg.connect(target, row_factory=psycopg.rows.dict_row) as conn:
            return {r["canonical_url"]: dict(r) for r in conn.execute(query)}
    with sqlite3.connect(target) as conn:
        conn.row_factory = sqlite3.Row
        return {r["canonical_url"]: dict(r) for r in conn.execute(query)}


def _count(target: str) -> int:
    try:
        with psycopg.connect(target) as conn:
            row = conn.execute("SELECT COUNT(*) FROM articles").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def _stat(stderr: str, key: str) -> int:
    """A value from the stats Scrapy logs at the end of a crawl (0 when absent)."""
    found = re.search(rf"'{re.escape(key)}': (\d+)", stderr.split("Dumping Scrapy stats", 1)[-1])
    return int(found.group(1)) if found else 0


def test_demo_into_postgres_gives_the_same_rows_as_into_sqlite(
    tmp_path: Path, pg_url: str, run_env: dict[str, str]
) -> None:
    sqlite_db = str(tmp_path / "demo.sqlite")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    demos = [subprocess.Popen(["newsclean", "demo", "--db", target], cwd=tmp_path, env=run_env, **pipes)
             for target in (sqlite_db, pg_url)]  # fmt: skip
    for demo in demos:  # side by side: each its own fixture server, its own store
        out, err = demo.communicate(timeout=180)
        assert demo.returncode == 0, err[-3000:]
    assert "postgresql://postgres@127.0.0.1:" in out  # where the data went, without a password
    sqlite_rows, pg_rows = _rows(sqlite_db), _rows(pg_url)
    assert sqlite_rows
    assert set(pg_rows) == set(sqlite_rows)
    for url, row in sqlite_rows.items():
        assert sorted(pg_rows[url]) == sorted(ARTICLE_FIELDS)
        for name in ARTICLE_FIELDS:
            # A cluster's id is its first member's: the two demos may store the copies in another order.
            if name not in ("fetched_at", "cluster"):
                assert pg_rows[url][name] == row[name], f"{url}: {name}"

    def partition(rows: dict[str, dict[str, object]]) -> set[frozenset[str]]:
        members: dict[object, set[str]] = {}
        for url, row in rows.items():
            members.setdefault(row["cluster"], set()).add(url)
        return {frozenset(m) for m in members.values()}

    assert all(r["cluster"] for r in pg_rows.values())
    assert partition(pg_rows) == partition(sqlite_rows)  # the same wire-copy clusters in both kinds
    assert any(len(m) > 1 for m in partition(pg_rows))


def _crawl_cmd(site: str, mirror: str, db: str, *extra: str) -> list[str]:
    return ["scrapy", "crawl", site, "-s", f"NEWSCLEAN_MIRROR={mirror}", "-s", f"NEWSCLEAN_DB={db}",
            "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", *extra]  # fmt: skip


def test_a_second_run_of_a_spider_against_one_postgres_is_refused(
    pg_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    from newsclean.fixtures import serve

    with serve(delay=0.5) as slow_mirror:
        first = subprocess.Popen(_crawl_cmd("trtworld", slow_mirror, pg_url), cwd=ROOT, env=run_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            holder = _wait_for_lock_holder(pg_url, first)
            # The second run starts from another folder, as on another host: nothing local is shared.
            second = subprocess.run(_crawl_cmd("trtworld", slow_mirror, pg_url), cwd=ROOT, env=run_env,
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
        finally:
            first.wait(timeout=120)
    assert first.returncode == 0
    assert second.returncode != 0
    where = pg_url.rsplit("/", 1)[0].replace("postgresql://", "")
    assert f"another crawl of 'trtworld' is running against postgresql://{where}/" in second.stderr
    assert f"({holder})" in second.stderr
    assert f"pid {first.pid} on " in holder


def _wait_for_lock_holder(url: str, proc: subprocess.Popen[bytes], deadline: float = 30) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end and proc.poll() is None:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'newsclean trtworld%'"
            ).fetchone()
        if row:
            return str(row[0])
        time.sleep(0.05)
    raise AssertionError("the first crawl never took its lock")


def _frontier_cmd(site: BulkSite, db: str, redis_url: str, run: str, *extra: str) -> list[str]:
    frontier = ["-s", f"NEWSCLEAN_FRONTIER={redis_url}", "-s", f"NEWSCLEAN_FRONTIER_RUN={run}"]
    return _crawl_cmd("sitemap", site.mirror, db, "-a", f"sitemap={site.index}", *frontier,
                      "-s", "NEWSCLEAN_WORKERS=0", *extra)  # fmt: skip


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def _finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> str:
    proc.wait(timeout=timeout)
    stderr = log.read_text(errors="replace")
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return stderr


def _expected() -> set[str]:
    return {article_url(i) for i in range(PAGES)}


def test_two_processes_share_one_frontier_and_store_every_article_once(
    pg_url: str, redis_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    run = uuid.uuid4().hex
    with serve_bulk(PAGES) as site:
        logs = [tmp_path / f"crawl{n}.log" for n in range(2)]
        procs = [_start(_frontier_cmd(site, pg_url, redis_url, run), run_env, log) for log in logs]
        outputs = [_finish(p, log) for p, log in zip(procs, logs, strict=True)]
        fetches = site.article_fetches()
    assert set(_rows(pg_url)) == _expected()
    assert len(fetches) == PAGES
    assert set(fetches.values()) == {1}  # no page fetched twice
    new = [_stat(out, "newsclean/new") for out in outputs]
    assert sum(new) == PAGES
    assert all(n > PAGES // 10 for n in new), new  # both did a share of the work
    assert [_stat(out, "newsclean/unchanged") + _stat(out, "newsclean/updated") for out in outputs] == [0, 0]


def test_a_process_killed_mid_crawl_and_restarted_loses_and_duplicates_nothing(
    pg_url: str, redis_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    run = uuid.uuid4().hex
    with serve_bulk(PAGES) as site:
        cmd = _frontier_cmd(site, pg_url, redis_url, run)
        victim = _start(cmd, run_env, tmp_path / "victim.log")
        other = _start(cmd, run_env, tmp_path / "other.log")
        end = time.monotonic() + 120
        while _count(pg_url) < PAGES // 5 and time.monotonic() < end and victim.poll() is None:
            time.sleep(0.1)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        stored_at_kill = _count(pg_url)
        assert PAGES // 5 <= stored_at_kill < PAGES, "the crawl was not caught mid-run"
        restarted = _start(cmd, run_env, tmp_path / "restarted.log")
        outputs = [_finish(other, tmp_path / "other.log"), _finish(restarted, tmp_path / "restarted.log")]
        fetches = site.article_fetches()
    rows = _rows(pg_url)
    assert set(rows) == _expected()  # nothing missing
    new = sum(_stat(out, "newsclean/new") for out in outputs)
    duplicates = sum(_stat(out, "newsclean/unchanged") + _stat(out, "newsclean/updated") for out in outputs)
    assert duplicates == 0  # no article the killed process had stored was stored again
    assert new < PAGES  # the killed process had stored some
    requeued = sum(_stat(out, "newsclean/frontier/requeued") for out in outputs)
    assert requeued > 0  # its requests in flight went back to the queue
    refetched = sum(n - 1 for n in fetches.values())
    print(f"stored {len(rows)}, duplicates {duplicates}, missing {PAGES - len(rows)}; killed at {stored_at_kill} "
          f"rows; {requeued} requests requeued, {refetched} pages fetched twice")  # fmt: skip


def test_a_live_process_whose_event_loop_is_held_past_the_timeout_is_not_taken_for_dead(
    pg_url: str, redis_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    """A live process is never taken for dead because its event loop was busy: one process's loop is
    held for well over ``DEAD_AFTER`` (a pipeline that sleeps on its 20th item, with requests in
    flight); the other must not put those requests back in the queue, so no page is fetched twice
    and no article stored twice. (With the heartbeat on the event loop, the other took them over.)"""
    from newsclean import settings
    from newsclean.crawl.frontier import DEAD_AFTER

    pages, hold = 300, DEAD_AFTER + 7
    run = uuid.uuid4().hex
    pipelines = json.dumps({**settings.ITEM_PIPELINES, "tests.loopblocker.BlockTheLoopOnce": 50})
    with serve_bulk(pages) as site:
        cmd = _frontier_cmd(site, pg_url, redis_url, run)
        block = ["-s", "LOOP_BLOCK_AT=20", "-s", f"LOOP_BLOCK_SECONDS={hold}"]
        slow_cmd = [*cmd, "-s", f"ITEM_PIPELINES={pipelines}", *block]
        logs = {"slow": tmp_path / "slow.log", "other": tmp_path / "other.log"}
        procs = {"slow": _start(slow_cmd, run_env, logs["slow"]), "other": _start(cmd, run_env, logs["other"])}
        outputs = {name: _finish(proc, logs[name]) for name, proc in procs.items()}
        fetches = site.article_fetches()
    assert "event loop free again" in outputs["slow"]  # the loop was held, and the crawl went on
    assert set(_rows(pg_url)) == {article_url(i) for i in range(pages)}
    assert [n for n in fetches.values() if n != 1] == []  # no page fetched twice
    assert sum(_stat(out, "newsclean/new") for out in outputs.values()) == pages
    for name, out in outputs.items():
        assert "is gone" not in out, name
        assert _stat(out, "newsclean/frontier/requeued") == 0, name
        assert _stat(out, "newsclean/unchanged") + _stat(out, "newsclean/updated") == 0, name


def test_processes_of_one_crawl_share_a_sites_pace(redis_url: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    run = uuid.uuid4().hex
    db = str(tmp_path / "store.sqlite")
    with serve_bulk(24) as site:
        cmd = _frontier_cmd(site, db, redis_url, run, "-s", "DOWNLOAD_DELAY=0.2", "-s", "RANDOMIZE_DOWNLOAD_DELAY=0")
        logs = [tmp_path / f"crawl{n}.log" for n in range(2)]
        procs = [_start(cmd, run_env, log) for log in logs]
        for proc, log in zip(procs, logs, strict=True):
            _finish(proc, log)
        times = sorted(t for t, _ in site.requests)
    assert len(_rows(db)) == 24
    # One request per 0.2 s started for the site by both processes together: at most 10 in any 2 s,
    # plus one per process whose first request was slow to leave (two processes each keeping its own
    # 0.2 s would send up to 20).
    busiest = max(sum(1 for u in times if t <= u < t + 2.0) for t in times)
    assert busiest <= 12, busiest
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    assert gaps[len(gaps) // 2] > 0.18  # most requests a full delay apart


def test_the_frontier_needs_a_run_name() -> None:
    from scrapy.settings import Settings

    from newsclean.crawl.frontier import Frontier, FrontierSettingsError

    settings = Settings({"NEWSCLEAN_FRONTIER": "redis://127.0.0.1:1/0"})
    with pytest.raises(FrontierSettingsError, match="NEWSCLEAN_FRONTIER_RUN"):
        Frontier().update_settings(settings)
    settings.set("NEWSCLEAN_FRONTIER_RUN", "2026-12-03")
    Frontier().update_settings(settings)
    assert settings["SCHEDULER"] == "newsclean.crawl.frontier.FrontierScheduler"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert settings["SCHEDULER_QUEUE_KEY"] == "newsclean:2026-12-03:%(spider)s:requests"
