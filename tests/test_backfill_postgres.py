"""End to end into a real PostgreSQL server: a crawl with the archive on records each article's raw
page, ``newsclean reextract --db postgresql://...`` works over them, and a WARC backfill killed with
``kill -9`` resumes where it was, as with an SQLite store (tests/test_backfill.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from newsclean.archive import RawPage, read_page

from .test_backfill import ARTICLES, _scrapy, _stat, kill_midway
from .warcs import WARC_DATE_ISO, write_copies_warc, write_fixture_warc

pytestmark = pytest.mark.crawl


def _rows(url: str, table: str = "articles") -> dict[str, dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return {row["canonical_url"]: row for row in conn.execute(f"SELECT * FROM {table}").fetchall()}


def _count(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT COUNT(*) FROM articles").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:  # the tables are not made yet
        return 0


def _reextract(url: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["newsclean", "reextract", "--db", url, "--workers", "1", *extra],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_crawl_with_archive_into_postgres_records_raw_pages_and_reextract_updates_a_changed_row(
    mirror: str, pg_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    archive = tmp_path / "archive"
    settings = [
        "-s",
        f"NEWSCLEAN_MIRROR={mirror}",
        "-s",
        f"NEWSCLEAN_DB={pg_url}",
        "-s",
        f"NEWSCLEAN_ARCHIVE={archive}",
    ]
    proc = _scrapy(["trtworld", *settings, "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"], run_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trt = {u: f for u, f in ARTICLES.items() if f.site == "trtworld"}
    raw = _rows(pg_url, "raw_pages")
    assert set(raw) == set(trt) == set(_rows(pg_url))
    for url, link in raw.items():  # each row names the record the crawl wrote its page into
        assert Path(link["warc_file"]).parent == archive
        record = read_page(RawPage(link["warc_file"], link["warc_offset"], link["warc_length"]))
        assert (record.url, record.body) == (trt[url].url, trt[url].body())
    unchanged = _reextract(pg_url, run_env, "--site", "trtworld")
    assert f"pages {len(trt)}, changed 0, unchanged {len(trt)}, failed 0" in unchanged.stdout
    # One row as an older extraction left it: re-extraction puts today's back and keeps the old one.
    stale = sorted(trt)[0]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE articles SET text = 'stale', content_hash = 'x', extractor_version = '0.0.1' "
            "WHERE canonical_url = %s",
            (stale,),
        )
    before = _rows(pg_url)
    proc = _reextract(pg_url, run_env)
    assert f"pages {len(trt)}, changed 1, unchanged {len(trt) - 1}, failed 0" in proc.stdout
    rows = _rows(pg_url)
    assert rows[stale]["text"] == trt[stale].expected["text"]
    assert rows[stale]["extractor_version"] not in ("", "0.0.1")
    assert rows[stale]["fetched_at"] == before[stale]["fetched_at"]  # the page is the one fetched then
    assert all(rows[u] == before[u] for u in trt if u != stale)
    with psycopg.connect(pg_url) as conn:
        revisions = conn.execute("SELECT canonical_url, text FROM revisions").fetchall()
    assert revisions == [(stale, "stale")]


def test_reextract_refuses_a_postgres_store_it_cannot_reach(pg_url: str, run_env: dict[str, str]) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    proc = subprocess.run(
        ["newsclean", "reextract", "--db", missing],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "cannot open the store at postgresql://" in proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr


def test_backfill_into_postgres_stores_raw_pages_and_is_not_read_twice(
    pg_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    warc = tmp_path / "fixtures.warc.gz"
    write_fixture_warc(warc)
    args = ["warc", "-a", f"path={warc}", "-s", f"NEWSCLEAN_DB={pg_url}"]
    proc = _scrapy(args, run_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    rows, raw = _rows(pg_url), _rows(pg_url, "raw_pages")
    assert set(rows) == set(raw) == set(ARTICLES)
    assert all(r["fetched_at"] == WARC_DATE_ISO for r in rows.values())
    assert {r["warc_file"] for r in raw.values()} == {str(warc)}
    with psycopg.connect(pg_url) as conn:
        progress = conn.execute("SELECT source, done_offset, finished FROM warc_progress").fetchall()
    assert [(source, finished) for source, _, finished in progress] == [(str(warc), 1)]  # read to its end
    assert progress[0][1] > max(r["warc_offset"] for r in raw.values())
    again = _scrapy(args, run_env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "read to its end by an earlier run" in again.stderr
    assert _stat(again.stderr, "newsclean/warc/records") == 0


def test_backfill_into_postgres_killed_with_sigkill_resumes_without_loss_or_repeat(
    pg_url: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    warc = tmp_path / "copies.warc.gz"
    urls = write_copies_warc(warc, 40)
    args = ["warc", "-a", f"path={warc}", "-s", f"NEWSCLEAN_DB={pg_url}", "-s", "NEWSCLEAN_WORKERS=1"]
    slow = ["-s", 'NEWSCLEAN_WORKER_FAULTS={"slow": "copy"}']  # a second a page: time to kill it midway
    # The first run is given 2.5 s more to write its progress (every 2 s): the second resumes past 0.
    kill_midway([*args, *slow], run_env, lambda: _count(pg_url), 6, settle=2.5)
    before = _rows(pg_url)
    assert 6 <= len(before) < len(urls)
    with psycopg.connect(pg_url) as conn:
        (done,) = conn.execute("SELECT done_offset FROM warc_progress").fetchone() or (0,)
        stored_offsets = [r[0] for r in conn.execute("SELECT warc_offset FROM raw_pages").fetchall()]
    assert done > 0
    assert len(stored_offsets) == len(before)
    proc = _scrapy(args, run_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    rows = _rows(pg_url)
    assert sorted(rows) == sorted(urls)  # none lost
    assert _stat(proc.stderr, "newsclean/new") == len(urls) - len(before)  # none stored twice
    assert _stat(proc.stderr, "newsclean/updated") == _stat(proc.stderr, "newsclean/unchanged") == 0
    assert f"resuming at offset {done}" in proc.stderr
    assert all(rows[u] == before[u] for u in before)  # the rows stored before the kill are as they were
    assert set(_rows(pg_url, "raw_pages")) == set(urls)
    with psycopg.connect(pg_url) as conn:
        ends = [r[0] for r in conn.execute("SELECT \"end\" FROM runs WHERE spider = 'warc' ORDER BY id").fetchall()]
        finished = conn.execute("SELECT finished FROM warc_progress").fetchall()
    assert ends[0] is None
    assert ends[1]
    assert finished == [(1,)]
