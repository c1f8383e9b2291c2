"""End to end: ``scrapy crawl warc`` as a real subprocess over WARC files, a crawl with the archive on,
and ``newsclean reextract`` over what they stored."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from newsclean.archive import RawPage, read_page
from newsclean.fixtures import load_fixtures

from .conftest import ROOT
from .warcs import WARC_DATE_ISO, append_response, copy_page, serve_folder, write_copies_warc, write_fixture_warc

pytestmark = pytest.mark.crawl

ARTICLES = {f.expected["canonical_url"]: f for f in load_fixtures() if f.kind == "article"}


def _scrapy(args: list[str], env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scrapy", "crawl", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _backfill(path: str, db: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    proc = _scrapy(["warc", "-a", f"path={path}", "-s", f"NEWSCLEAN_DB={db}", *extra], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def _rows(db: Path, table: str = "articles") -> dict[str, dict[str, object]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["canonical_url"]: dict(row) for row in conn.execute(f"SELECT * FROM {table}")}


def _stat(log: str, key: str) -> int:
    marker = f"'{key}': "
    at = log.find(marker)
    return int(log[at + len(marker) :].split(",")[0].split("}")[0]) if at >= 0 else 0


def test_backfill_stores_every_article_like_a_crawl_and_skips_the_rest(tmp_path: Path, run_env: dict[str, str]) -> None:
    warc, db = tmp_path / "fixtures.warc.gz", tmp_path / "store.sqlite"
    write_fixture_warc(warc)
    started = time.monotonic()
    proc = _backfill(str(warc), db, run_env, "-s", "NEWSCLEAN_PROGRESS_INTERVAL=0.5")
    elapsed = time.monotonic() - started
    rows = _rows(db)
    assert set(rows) == set(ARTICLES)
    for url, fixture in ARTICLES.items():
        for name, value in fixture.expected.items():
            stored = json.loads(rows[url][name]) if isinstance(value, list) else rows[url][name]  # type: ignore[arg-type]
            assert stored == value, f"{url}: column {name}"
        assert rows[url]["fetched_at"] == WARC_DATE_ISO  # the record's WARC-Date, not the time of the backfill
        assert rows[url]["extractor_version"]
    raw = _rows(db, "raw_pages")
    assert set(raw) == set(ARTICLES)
    for url, link in raw.items():  # each row names the record its page came from
        record = read_page(RawPage(str(link["warc_file"]), int(link["warc_offset"]), int(link["warc_length"])))  # type: ignore[call-overload]
        assert record.url == ARTICLES[url].url
        assert record.body == ARTICLES[url].body()
    log = proc.stderr
    assert _stat(log, "newsclean/warc/skipped/revisit") == 1
    assert _stat(log, "newsclean/warc/skipped/truncated") == 1
    assert _stat(log, "newsclean/warc/skipped/status_404") == 3
    assert _stat(log, "newsclean/warc/skipped/not_html") >= 1 + 8  # the JPEG, feeds, sitemaps, robots.txt
    # Progress at a steady interval, never more often: records read, megabytes of the total, rate.
    progress = [line for line in log.splitlines() if "records read (" in line]
    assert 2 <= len(progress) <= elapsed / 0.5 + 2
    assert "MB of 0.1 MB" in progress[0]
    done = re.search(r"warc \(done\): (\d+) records read", progress[-1])
    assert done, progress[-1]
    assert int(done.group(1)) >= len(ARTICLES) + 1 + 3 + 1 + 9  # articles, revisit, 404s, cut record, the rest
    # Recorded like any run; the same command again finds the file read to its end and stores nothing twice.
    again = _backfill(str(warc), db, run_env)
    assert "read to its end by an earlier run" in again.stderr
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT spider, end, new, finish_reason FROM runs ORDER BY id").fetchall()
    assert [(r[0], r[2], r[3]) for r in runs] == [("warc", len(ARTICLES), "finished"), ("warc", 0, "finished")]
    assert all(r[1] for r in runs)


def test_backfill_skips_and_counts_a_url_over_the_length_limit(tmp_path: Path, run_env: dict[str, str]) -> None:
    """A record whose URL is longer than URLLENGTH_LIMIT is skipped where it is read, and counted; the
    file is still read to its end (such a record is never left in flight)."""
    warc, db = tmp_path / "long.warc.gz", tmp_path / "store.sqlite"
    urls = write_copies_warc(warc, 2)
    long_url = urls[0] + "?q=" + "a" * 2100
    append_response(warc, long_url, copy_page(next(iter(ARTICLES.values())).body(), long_url, 99))
    proc = _backfill(str(warc), db, run_env)
    assert set(_rows(db)) == set(urls)
    assert _stat(proc.stderr, "newsclean/warc/skipped/url_too_long") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT finished FROM warc_progress").fetchall() == [(1,)]


def test_an_archived_challenge_page_does_not_pause_its_site(tmp_path: Path, run_env: dict[str, str]) -> None:
    """Politeness is for live sites: an archived response that carries ``cf-mitigated: challenge``
    (a 200 the archive kept) neither pauses the site's other records nor is taken for a block."""
    warc, db = tmp_path / "challenge.warc.gz", tmp_path / "store.sqlite"
    fixture = next(iter(ARTICLES.values()))
    first = fixture.url + "-archived-challenge"
    append_response(warc, first, copy_page(fixture.body(), first, 0), [("cf-mitigated", "challenge")])
    later = [f"{fixture.url}-later{n}" for n in range(1, 3)]
    for n, url in enumerate(later, 1):
        append_response(warc, url, copy_page(fixture.body(), url, n))
    proc = _backfill(str(warc), db, run_env)
    assert set(_rows(db)) == {first, *later}
    assert "newsclean/blocked" not in proc.stderr


def test_backfill_filters_by_site_and_by_domain(tmp_path: Path, run_env: dict[str, str]) -> None:
    warc = tmp_path / "fixtures.warc.gz"
    write_fixture_warc(warc, truncate=False)
    by_site, by_domain = tmp_path / "site.sqlite", tmp_path / "domain.sqlite"
    proc = _backfill(str(warc), by_site, run_env, "-a", "sites=trtworld,themoscowtimes")
    assert {r["site"] for r in _rows(by_site).values()} == {"trtworld", "themoscowtimes"}
    assert set(_rows(by_site)) == {u for u, f in ARTICLES.items() if f.site in ("trtworld", "themoscowtimes")}
    assert _stat(proc.stderr, "newsclean/warc/skipped/filtered") > 0
    _backfill(str(warc), by_domain, run_env, "-a", "domains=theguardian.com")
    assert set(_rows(by_domain)) == {u for u, f in ARTICLES.items() if f.site == "theguardian"}


def test_backfill_from_a_url_then_reextract_over_http_ranges(tmp_path: Path, run_env: dict[str, str]) -> None:
    folder = tmp_path / "served"
    folder.mkdir()
    write_fixture_warc(folder / "cc-news.warc.gz")
    db = tmp_path / "store.sqlite"
    with serve_folder(folder) as base:
        url = f"{base}/cc-news.warc.gz"
        _backfill(url, db, run_env)
        assert set(_rows(db)) == set(ARTICLES)
        assert {r["warc_file"] for r in _rows(db, "raw_pages").values()} == {url}
        with sqlite3.connect(db) as conn:  # as if an older extraction had produced one row
            conn.execute("UPDATE articles SET text = 'stale', content_hash = 'x', extractor_version = '0.0.1'")
        proc = subprocess.run(
            ["newsclean", "reextract", "--db", str(db), "--workers", "1"],
            env=run_env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    n = len(ARTICLES)
    assert f"pages {n}, changed {n}, unchanged 0, failed 0" in proc.stdout
    rows = _rows(db)
    assert all(rows[u]["text"] == f.expected["text"] for u, f in ARTICLES.items())
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM revisions WHERE text = 'stale'").fetchone()[0] == n


def kill_midway(args: list[str], env: dict[str, str], count: Callable[[], int], at: int, settle: float = 0.0) -> int:
    """Run ``scrapy crawl *args`` and kill it with SIGKILL once ``count()`` (articles stored) reaches
    ``at`` (two minutes at most), ``settle`` seconds later; the last count read."""
    proc = subprocess.Popen(
        ["scrapy", "crawl", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    stored = 0
    try:
        while time.monotonic() < deadline and stored < at:
            time.sleep(0.3)
            stored = count()
        time.sleep(settle)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return stored


def test_backfill_killed_with_sigkill_resumes_without_loss_or_repeat(tmp_path: Path, run_env: dict[str, str]) -> None:
    warc, db = tmp_path / "copies.warc.gz", tmp_path / "store.sqlite"
    urls = write_copies_warc(warc, 40)
    args = ["warc", "-a", f"path={warc}", "-s", f"NEWSCLEAN_DB={db}", "-s", "NEWSCLEAN_WORKERS=1"]
    slow = ["-s", 'NEWSCLEAN_WORKER_FAULTS={"slow": "copy"}']  # a second a page: time to kill it midway

    def count() -> int:
        if not db.exists():  # not created here: the crawl makes its store
            return 0
        try:
            with sqlite3.connect(db) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    stored = kill_midway([*args, *slow], run_env, count, 4)
    assert 4 <= stored < len(urls)
    before = _rows(db)
    proc = _scrapy(args, run_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = _rows(db)
    assert sorted(rows) == sorted(urls)  # none lost
    assert _stat(proc.stderr, "newsclean/new") == len(urls) - len(before)  # none stored twice
    assert _stat(proc.stderr, "newsclean/updated") == _stat(proc.stderr, "newsclean/unchanged") == 0
    assert "resuming at offset" in proc.stderr
    with sqlite3.connect(db) as conn:
        ends = [r[0] for r in conn.execute("SELECT end FROM runs WHERE spider = 'warc' ORDER BY id")]
    assert ends[0] is None
    assert ends[1]


def test_crawl_with_archive_writes_checked_warcs_and_reextract_uses_them(
    mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db, archive = tmp_path / "store.sqlite", tmp_path / "archive"
    settings = ["-s", f"NEWSCLEAN_MIRROR={mirror}", "-s", f"NEWSCLEAN_DB={db}", "-s", f"NEWSCLEAN_ARCHIVE={archive}"]
    proc = _scrapy(["trtworld", *settings, "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"], run_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(archive.glob("*.warc.gz"))
    assert files
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, files)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "index", "-f", "warc-type,warc-target-uri", *map(str, files)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    targets = [json.loads(line) for line in index.stdout.splitlines()]
    responses = {t["warc-target-uri"] for t in targets if t["warc-type"] == "response"}
    requests = {t["warc-target-uri"] for t in targets if t["warc-type"] == "request"}
    assert responses == requests
    trt = {u: f for u, f in ARTICLES.items() if f.site == "trtworld"}
    assert {f.url for f in trt.values()} <= responses
    assert any(u.endswith("/feed/rss.xml") for u in responses)  # feeds and sitemaps too
    raw = _rows(db, "raw_pages")
    assert set(raw) == set(trt) == set(_rows(db))
    for url, link in raw.items():
        assert read_page(RawPage(str(link["warc_file"]), int(link["warc_offset"]))).body == trt[url].body()  # type: ignore[call-overload]
    proc = subprocess.run(
        ["newsclean", "reextract", "--db", str(db), "--site", "trtworld", "--workers", "1"],
        env=run_env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"pages {len(trt)}, changed 0, unchanged {len(trt)}, failed 0" in proc.stdout


def test_wrong_arguments_are_one_line_and_exit_2(tmp_path: Path, run_env: dict[str, str]) -> None:
    for args, message in (
        ([], "give the WARC files with -a path="),
        (["-a", f"path={tmp_path}/missing.warc.gz"], "no WARC file at"),
        (["-a", f"path={tmp_path}/*.warc.gz"], "no WARC file at"),
        (["-a", "path=https://x.example/a.warc.gz", "-a", "sites=nosuchsite"], "no site named 'nosuchsite'"),
    ):
        proc = _scrapy(["warc", *args, "-s", f"NEWSCLEAN_DB={tmp_path}/store.sqlite"], run_env, timeout=60)
        assert proc.returncode == 2, proc.stderr[-2000:]
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("scrapy crawl: warc spider: ")
        assert message in last
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "store.sqlite").exists()
