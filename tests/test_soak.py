"""The soak: 20 simulated days of scheduled crawls, two a day, of a loopback site that lives (new
articles, edits, a layout drift, an outage, a skewed clock, dates without a time zone) and a crawl
killed with SIGKILL in the middle. Every crawl is a real ``scrapy crawl`` process on the real store;
``NEWSCLEAN_NOW`` tells each one the simulated moment. The crawl processes are forked from one that
imported Scrapy and newsclean once (tests/crawlfork.py), which saves 40 interpreter start-ups.

Prints its figures (wall time, requests, articles, revisions, alarms, peak RSS and store size of the
first and last days, requests a second at the server).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from newsclean import settings as project

from .crawlfork import Forker, forker
from .helpers import ROOT, rows
from .soaksite import CRAWL_HOURS, SoakSite, day_of, moment, serve_soak

DAYS = 20
DRIFT = {12}  # the body markup changes: the site's body rule misses
DOWN = {8}  # every request answers 503 (in the evening, robots.txt excepted)
SKEWED = {6, 7, 8, 9}  # the site's clock is 9 hours ahead
NAIVE = {14, 15, 16}  # the site writes its dates without a time zone (local time, UTC+09:00)
EDIT_DAYS = {1, 3, 5, 7, 8, 10, 11, 13, 15, 17, 18}
TOUCH_DAYS = {4, 15}
# The first crawls after the site changed the form of its dates.
FORM_CHANGES = {(min(NAIVE), CRAWL_HOURS[0]), (max(NAIVE) + 1, CRAWL_HOURS[0])}
KILL = (10, 6)  # that crawl is killed with SIGKILL once it has stored an article
CRAWL_TIMEOUT = 180  # seconds: a crawl still running then is killed (and the test fails)
START_DELAY = project.DOWNLOAD_DELAY  # AUTOTHROTTLE_START_DELAY: the default 5 s adds 10 s to each crawl
# Extraction inline (NEWSCLEAN_WORKERS=0), a second or more saved a crawl; the killed crawl runs with a
# worker process, which must not outlive it.
WORKERS, KILL_WORKERS = 0, 1
# Scrapy waits 0.5 to 1.5 times DOWNLOAD_DELAY between two requests to a site (RANDOMIZE_DOWNLOAD_DELAY),
# AutoThrottle never below it: no 1-second window may hold more requests than this.
MAX_PER_SECOND = math.floor(1 / (0.5 * project.DOWNLOAD_DELAY)) + 1
# A crawl is a new process each time: its peak memory depends on its own run, not on the days before.
# The first and last days do the same work (5 new articles a crawl, a few edits); 25% covers the
# allocator and the garbage collector.
RSS_TOLERANCE = 1.25
# The store grows by about the same number of bytes per article on the last days as on the first
# (its indexes grow as log n; 50% covers SQLite's page granularity on ~50 articles).
GROWTH_TOLERANCE = 1.5


def _crawl(site: SoakSite, data: Path, logs: Path, env: dict[str, str], fork: Forker, kill: bool) -> dict[str, Any]:
    """One scheduled crawl at ``site.now``; its wall time, exit status, peak RSS (KB) and log."""
    env = {**env, "NEWSCLEAN_NOW": site.now.isoformat()}
    cmd = ["scrapy", "crawl", "soaknews"]
    workers = KILL_WORKERS if kill else WORKERS
    settings = {"NEWSCLEAN_MIRROR": site.mirror, "NEWSCLEAN_DB": data / "store.sqlite", "JOBDIR": data / "job",
                "AUTOTHROTTLE_START_DELAY": START_DELAY, "NEWSCLEAN_WORKERS": workers}  # fmt: skip
    for setting in (f"{name}={value}" for name, value in settings.items()):
        cmd += ["-s", setting]
    log = logs / f"{site.now:%d-%H}.log"
    stored_before = _count(data / "store.sqlite")
    started = time.monotonic()
    pid = fork.start(cmd, env, log)
    watchdog = threading.Timer(CRAWL_TIMEOUT, os.kill, (pid, signal.SIGKILL))  # a hung crawl fails the test
    watchdog.start()
    stored_at_kill: set[str] = set()
    if kill:
        deadline = time.monotonic() + 90
        while _count(data / "store.sqlite") <= stored_before:
            assert time.monotonic() < deadline, "the crawl to kill stored nothing in 90 s"
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        stored_at_kill = set(rows(data / "store.sqlite"))
    ended = fork.wait()
    watchdog.cancel()
    text = log.read_text(encoding="utf-8", errors="replace")
    return {
        "day": day_of(site.now), "hour": site.now.hour, "seconds": time.monotonic() - started,
        "rc": ended["rc"], "rss_kb": ended["maxrss_kb"], "log": text, "stored_at_kill": stored_at_kill,
        "workers": [int(p) for p in _workers(text)],
    }  # fmt: skip


def _workers(log: str) -> list[str]:
    for line in log.splitlines():
        if "extraction pool:" in line and "(pids " in line:
            return line.split("(pids ", 1)[1].rstrip(")").split()
    return []


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _disk(data: Path) -> tuple[int, list[str]]:
    """Bytes and names of the files under ``data``, the store's write-ahead log written into it first
    (the log's size is SQLite's checkpoint period, not the store's)."""
    with sqlite3.connect(data / "store.sqlite") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = sorted(p for p in data.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files), [str(p.relative_to(data)) for p in files]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _check_sites(db: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["newsclean", "check-sites", "--db", str(db)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.mark.crawl
def test_twenty_days_of_scheduled_crawls(tmp_path: Path, run_env: dict[str, str]) -> None:
    wall = time.monotonic()
    site = SoakSite(days=DAYS, drift=DRIFT, down=DOWN, skewed=SKEWED, naive=NAIVE, edit_days=EDIT_DAYS,
                    touch_days=TOUCH_DAYS)  # fmt: skip
    data, logs = tmp_path / "data", tmp_path / "logs"
    data.mkdir()
    logs.mkdir()
    db = data / "store.sqlite"
    env = {**run_env, "PYTHONPATH": str(ROOT / "tests" / "soak")}
    crawls: list[dict[str, Any]] = []
    disk: dict[int, tuple[int, list[str]]] = {}
    stored: dict[int, int] = {}
    checks: dict[int, subprocess.CompletedProcess[str]] = {}
    with serve_soak(site), forker(ROOT, env) as fork:
        for day in range(DAYS):
            for hour in CRAWL_HOURS:
                site.now = moment(day, hour)
                kill = (day, hour) == KILL
                site.slow = 0.3 if kill else 0.0
                first = len(site.log)
                crawl = _crawl(site, data, logs, env, fork, kill)
                crawl["requests"] = site.log[first:]
                crawls.append(crawl)
                if kill:
                    assert crawl["rc"] == -signal.SIGKILL
                    time.sleep(2)
                    assert not [p for p in crawl["workers"] if _alive(p)], "workers outlived their killed crawl"
                else:
                    assert crawl["rc"] == 0, crawl["log"][-3000:]
                    assert "Traceback" not in crawl["log"], crawl["log"][-3000:]
            disk[day], stored[day] = _disk(data), _count(db)
            if day in DRIFT | DOWN or day == DAYS - 1:
                checks[day] = _check_sites(db, {**env, "NEWSCLEAN_NOW": site.now.isoformat()})
    seconds = time.monotonic() - wall

    articles = rows(db)
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        revisions = [dict(r) for r in conn.execute("SELECT * FROM revisions")]
        runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY id")]
    per_url: dict[str, int] = defaultdict(int)
    for revision in revisions:
        per_url[revision["canonical_url"]] += 1
    wasted, per_day, fetches = _refetches(crawls)
    alarms = {(day_of(_at(r["start"])), _at(r["start"]).hour): r["alarm"] for r in runs if r["end"]}
    fastest = max(_most_in_a_second([f.real for f in c["requests"]]) for c in crawls)
    normal = [c for c in crawls if c["rc"] == 0]
    first_rss = max(c["rss_kb"] for c in normal if c["day"] < 3)
    last_rss = max(c["rss_kb"] for c in normal if c["day"] >= DAYS - 3)
    first_growth = (disk[5][0] - disk[1][0]) / (stored[5] - stored[1])
    last_growth = (disk[DAYS - 1][0] - disk[DAYS - 5][0]) / (stored[DAYS - 1] - stored[DAYS - 5])
    figures = {
        "wall_seconds": round(seconds, 1),
        "crawls": len(crawls),
        "crawl_seconds": [round(min(c["seconds"] for c in crawls), 1), round(max(c["seconds"] for c in crawls), 1)],
        "requests": sum(len(c["requests"]) for c in crawls),
        "article_fetches": fetches,
        "max_article_fetches_per_page_day": max(per_day.values()),
        "articles": len(articles),
        "revisions": len(revisions),
        "alarms": {f"day {d} {h}h": a for (d, h), a in alarms.items() if a},
        "peak_rss_mb_first_days": round(first_rss / 1024, 1),
        "peak_rss_mb_last_days": round(last_rss / 1024, 1),
        "store_bytes_day_1": disk[1][0],
        "store_bytes_last_day": disk[DAYS - 1][0],
        "bytes_per_article_first_days": round(first_growth),
        "bytes_per_article_last_days": round(last_growth),
        "files": disk[DAYS - 1][1],
        "max_requests_in_a_second": fastest,
        "allowed_in_a_second": MAX_PER_SECOND,
        "max_requests_at_once": site.max_active,
        "refetched_unchanged": len(wasted),
        "refetched_unchanged_at": sorted({f"day {d} {h}h" for d, h, _, _ in wasted}),
    }
    print("soak figures:", json.dumps(figures, indent=1))

    # Every article stored once, with its last version's text; none lost to the kill or the outage.
    assert sorted(articles) == sorted(a.url for a in site.articles)
    for article in site.articles:
        text, version = articles[article.url]["text"], article.version(site.now)
        assert version == 0 or f"revision {version}." in text, article.url
        assert f"revision {version + 1}." not in text
        for boilerplate in ("Related", "rights reserved", "Politics"):
            assert boilerplate not in text, article.url

    # Every real edit gave one revision; a page only touched (its feed date moved) gave none.
    assert dict(per_url) == {a.url: a.version(site.now) for a in site.articles if a.version(site.now)}

    # No unchanged page fetched twice in a day. None fetched again at all unless the site changed it or
    # announced a change in its feed (or the killed crawl had fetched it without storing it), but on
    # the first crawl after the site began to write its dates without a time zone: a date without one
    # counts as a change when it may be after the last fetch at any time zone (no edit is missed).
    assert [w for w in wasted if w[0] == w[2]] == [], "unchanged pages fetched twice in a day"
    assert [w for w in wasted if (w[0], w[1]) not in FORM_CHANGES] == [], f"unchanged pages fetched again: {wasted}"

    # The alarms: the drift day's runs (rules missed) and the outage day's, no others.
    assert len(runs) == 2 * DAYS
    assert sum(1 for r in runs if not r["end"]) == 1  # the killed run never ended
    for (day, hour), alarm in alarms.items():
        if day in DRIFT:
            assert "rules missed" in alarm, (day, hour, alarm)
        elif day in DOWN and hour < 12:  # robots.txt unreachable: no page requested (RFC 9309)
            assert alarm.startswith("robots.txt unreachable"), (day, hour, alarm)
        elif day in DOWN:  # robots.txt answered, every other request failed
            assert alarm.startswith("outage: every request failed"), (day, hour, alarm)
        else:
            assert alarm == "", (day, hour, alarm)
    for day in DRIFT | DOWN:
        assert checks[day].returncode == 1, checks[day]
        assert checks[day].stdout.startswith("soaknews: "), checks[day]
    assert checks[DAYS - 1].returncode == 0, checks[DAYS - 1]

    # Politeness at the server: requests in any second, and at once.
    assert fastest <= MAX_PER_SECOND
    assert site.max_active <= project.CONCURRENT_REQUESTS_PER_DOMAIN

    # Memory and disk stay flat.
    assert last_rss <= first_rss * RSS_TOLERANCE, (first_rss, last_rss)
    assert last_growth <= first_growth * GROWTH_TOLERANCE, (first_growth, last_growth)
    assert disk[DAYS - 1][1] == disk[1][1], "files left behind"


def _refetches(crawls: list[dict[str, Any]]) -> tuple[list[tuple[int, int, int, str]], dict[tuple[int, str], int], int]:
    """Article fetches that brought nothing new (the page unchanged, its feed date too), except those
    of pages the killed crawl fetched without storing, as (day, hour, day of the fetch before, path);
    fetches per page and day; all article fetches."""
    kill_at = next(i for i, c in enumerate(crawls) if (c["day"], c["hour"]) == KILL)
    last: dict[str, tuple[int, Any, int]] = {}
    wasted: list[tuple[int, int, int, str]] = []
    per_day: dict[tuple[int, str], int] = defaultdict(int)
    fetches = 0
    for i, crawl in enumerate(crawls):
        for fetch in crawl["requests"]:
            if not fetch.path.startswith("news/") or fetch.version < 0:
                continue
            fetches += 1
            per_day[(crawl["day"], fetch.path)] += 1
            url = f"https://soak.example/{fetch.path}"
            after_kill = i == kill_at + 1 and url not in crawls[kill_at]["stored_at_kill"]
            before = last.get(url)
            if before is not None and before[:2] == (fetch.version, fetch.announced) and not after_kill:
                wasted.append((crawl["day"], crawl["hour"], before[2], fetch.path))
            last[url] = (fetch.version, fetch.announced, crawl["day"])
    return wasted, per_day, fetches


def _at(iso: str) -> Any:
    from newsclean.dates import parse_time

    when = parse_time(iso)
    assert when is not None
    return when


def _most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    most, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return most
