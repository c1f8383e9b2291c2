"""Bad input at the command line: one clear line on standard error, a non-zero exit, no traceback,
and no file written (no store, lock file or run record, no half-written output)."""

from __future__ import annotations

import gzip
import io
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from newsclean.cli import main

from .helpers import ROOT


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue(), capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_extract_on_a_directory_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _cli(capsys, "extract", str(tmp_path))
    assert status == 2
    assert out == ""
    assert _one_line(err) == f"newsclean: {tmp_path} is a directory, not a saved page"


def test_extract_with_a_malformed_url_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>text</p></body></html>")
    status, out, err = _cli(capsys, "extract", str(page), "--url", "http://[::1")
    assert status == 2
    assert out == ""
    assert _one_line(err) == "newsclean: not an http(s) URL: 'http://[::1'"


def test_extract_refuses_a_page_larger_than_the_crawl_would_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.html"
    big.write_bytes(b"<html><body>" + b"<p>word word word</p>" * 2_500_000 + b"</body></html>")  # 50 MB
    status, out, err = _cli(capsys, "extract", str(big))
    assert status == 2
    assert out == ""
    assert "more than a page may hold (10485760)" in _one_line(err)
    # Compressed, the same page is bounded while it is decompressed (never held whole).
    packed = tmp_path / "big.html.gz"
    packed.write_bytes(gzip.compress(big.read_bytes(), compresslevel=1))
    status, out, err = _cli(capsys, "extract", str(packed))
    assert status == 2
    assert "more than a page may hold" in _one_line(err)


def test_runs_and_check_sites_on_a_file_that_is_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    empty = tmp_path / "other.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    for command in ("runs", "check-sites"):
        status, _out, err = _cli(capsys, command, "--db", str(text))
        assert status == 2
        assert _one_line(err) == f"newsclean: {text}: not a SQLite file"
        status, _out, err = _cli(capsys, command, "--db", str(empty))
        assert status == 2
        assert "not a newsclean store" in _one_line(err)
    assert text.read_text() == "not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.sqlite"]  # nothing written


def test_demo_refuses_a_store_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    status, _out, err = _cli(capsys, "demo", "--db", str(text))
    assert status == 2
    assert _one_line(err) == f"newsclean: cannot store into {text}: not a SQLite file"
    status, _out, err = _cli(capsys, "demo", "--db", str(text / "store.sqlite"))  # under a file
    assert status == 2
    assert _one_line(err).startswith(f"newsclean: cannot store into {text / 'store.sqlite'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no store, no lock files


@pytest.mark.crawl
def test_demo_leaves_no_lock_files_beside_the_store(tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "mine.sqlite"
    proc = subprocess.run(
        ["newsclean", "demo", "--db", str(db)], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(tmp_path.glob("*.lock"))
    # A store made read-only: one line and status 2 for whoever cannot write it (root can: stored).
    db.chmod(0o444)
    for extra in tmp_path.glob("mine.sqlite-*"):
        extra.unlink()
    proc = subprocess.run(
        ["newsclean", "demo", "--db", str(db)], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=180
    )
    assert "Traceback" not in proc.stderr
    if os.geteuid() != 0:
        assert proc.returncode == 2
        assert _one_line(proc.stderr).startswith(f"newsclean: cannot store into {db}")
    assert not list(tmp_path.glob("*.lock"))


@pytest.mark.crawl
@pytest.mark.parametrize(
    ("spider", "args", "message"),
    [
        ("article", ["-a", "urls=not-a-url"], "scrapy crawl: article spider: not an http(s) URL: 'not-a-url'"),
        ("article", ["-a", "urls=http://[::1"], "scrapy crawl: article spider: not an http(s) URL: 'http://[::1'"),
        ("article", ["-a", "file=missing.txt"], "scrapy crawl: article spider: no such file: missing.txt"),
        ("article", [], "scrapy crawl: article spider: give URLs with -a urls=U1,U2 or -a file=urls.txt"),
        ("feed", [], "scrapy crawl: feed spider: give the feed with -a feed=URL"),
        (
            "feed",
            ["-a", "feed=file:///etc/passwd"],
            "scrapy crawl: feed spider: not an http(s) URL: 'file:///etc/passwd'",
        ),
        ("sitemap", [], "scrapy crawl: sitemap spider: give the sitemap with -a sitemap=URL"),
        ("nosuchspider", [], "scrapy crawl: no spider named 'nosuchspider' (see `scrapy list`)"),
    ],
)
def test_crawl_with_bad_arguments_starts_nothing(
    spider: str, args: list[str], message: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db = tmp_path / "data" / "store.sqlite"
    before = sorted(p.name for p in (ROOT / "data").iterdir()) if (ROOT / "data").is_dir() else []
    proc = subprocess.run(
        ["scrapy", "crawl", spider, *args, "-s", f"NEWSCLEAN_DB={db}", "-L", "WARNING"],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert _one_line(proc.stderr) == message
    assert not (tmp_path / "data").exists()  # no store, no lock, no run record
    after = sorted(p.name for p in (ROOT / "data").iterdir()) if (ROOT / "data").is_dir() else []
    assert after == before
