"""WARC reading and writing (newsclean/archive.py), checked against warcio's own command line."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsclean.archive import ArchiveError, ArchiveWriter, RawPage, expand_sources, read_page, read_records
from newsclean.fixtures import load_fixtures

from .warcs import WARC_DATE_ISO, serve_folder, write_fixture_warc


def _warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _write_pages(folder: Path, count: int, max_size: int = 1 << 30) -> tuple[ArchiveWriter, list[RawPage]]:
    writer = ArchiveWriter(folder, max_size=max_size)
    pages = []
    for n in range(count):
        body = f"<html><body><p>Page {n}.</p>{'<p>word</p>' * 50}</body></html>".encode()
        pages.append(
            writer.write(
                f"https://news.example/a/{n}",
                200,
                [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")],
                body,
                request_headers=[("User-Agent", "newsclean-test")],
                ip="127.0.0.1",
            )
        )
    writer.close()
    return writer, pages


@pytest.mark.crawl  # warcio's command line / a loopback server
def test_written_files_pass_warcio_check_and_index_finds_every_response(tmp_path: Path) -> None:
    _, pages = _write_pages(tmp_path, 5)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 1
    check = _warcio("check", "-v", str(files[0]))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 11  # warcinfo + 5 responses + 5 requests
    index = _warcio("index", "-f", "offset,warc-type,warc-target-uri,warc-payload-digest", str(files[0]))
    rows = [json.loads(line) for line in index.stdout.splitlines()]
    responses = [r for r in rows if r["warc-type"] == "response"]
    assert [int(r["offset"]) for r in responses] == [p.offset for p in pages]
    assert all(r["warc-payload-digest"].startswith("sha1:") for r in responses)
    assert [r["warc-type"] for r in rows] == ["warcinfo"] + ["response", "request"] * 5


def test_every_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    _, pages = _write_pages(tmp_path, 3)
    data = Path(pages[0].file).read_bytes()
    for page in pages:  # a record starts a gzip member: decompressible from its offset alone
        record = gzip.GzipFile(fileobj=io.BytesIO(data[page.offset :])).read(400)
        assert record.startswith(b"WARC/1.1\r\n")
        assert b"\r\nWARC-Type: response\r\n" in record


@pytest.mark.crawl  # warcio's command line / a loopback server
def test_files_rotate_at_the_size_limit(tmp_path: Path) -> None:
    _, pages = _write_pages(tmp_path, 12, max_size=2000)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) > 2
    assert {p.file for p in pages} == {str(f) for f in files}
    for path in files:
        assert _warcio("check", str(path)).returncode == 0
    for n, page in enumerate(pages):
        record = read_page(page)
        assert record.url == f"https://news.example/a/{n}"
        assert record.body.startswith(f"<html><body><p>Page {n}.</p>".encode())


@pytest.mark.crawl  # warcio's command line / a loopback server
def test_read_page_by_offset_and_over_http_range(tmp_path: Path) -> None:
    _, pages = _write_pages(tmp_path, 4)
    local = read_page(pages[2])
    assert (local.status, local.url) == (200, "https://news.example/a/2")
    assert local.content_type == "text/html; charset=utf-8"
    assert not any(k.lower() == "transfer-encoding" for k, _ in local.headers)
    records = [r for r in read_records(pages[0].file) if r.kind == "response"]
    with serve_folder(tmp_path) as base:
        url = f"{base}/{Path(pages[0].file).name}"
        remote = [r for r in read_records(url) if r.kind == "response"]
        assert [(r.url, r.page.offset, r.page.length) for r in remote] == [  # type: ignore[union-attr]
            (r.url, r.page.offset, r.page.length)
            for r in records  # type: ignore[union-attr]
        ]
        third = remote[2].page
        assert third is not None
        assert read_page(third).body == local.body  # one range request for the record alone
        resumed = [r.url for r in read_records(url, third.offset) if r.kind == "response"]
        assert resumed == ["https://news.example/a/2", "https://news.example/a/3"]


def test_fixture_warc_records_revisit_non_html_and_truncated_tail(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.warc.gz"
    counts = write_fixture_warc(path)
    kinds: dict[str, int] = {}
    records = []
    with contextlib.suppress(ArchiveError):  # a cut gzip member may also end the file with an error
        records.extend(read_records(str(path)))
    for record in records:
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    assert kinds["response"] == counts["fixtures"] + counts["image"] + 1  # the last one is cut
    assert kinds["revisit"] == 1
    assert records[-1].truncated
    assert not any(r.truncated for r in records[:-1])
    by_url = {r.url: r for r in records if r.kind == "response" and not r.truncated}
    for fixture in load_fixtures():
        record = by_url[fixture.url]
        assert record.status == fixture.status
        assert record.date == WARC_DATE_ISO
        if fixture.status == 200:
            assert record.body == fixture.body()


def test_expand_sources(tmp_path: Path) -> None:
    for name in ("b.warc.gz", "a.warc.gz"):
        (tmp_path / name).write_bytes(b"")
    found = expand_sources(f"{tmp_path}/*.warc.gz,https://data.example/x.warc.gz")
    assert found == [str(tmp_path / "a.warc.gz"), str(tmp_path / "b.warc.gz"), "https://data.example/x.warc.gz"]
    with pytest.raises(ArchiveError):
        expand_sources(str(tmp_path / "missing.warc.gz"))


def test_store_keeps_the_raw_page_with_the_row_and_adds_new_columns_to_an_old_store(tmp_path: Path) -> None:
    import sqlite3

    from newsclean import store
    from newsclean.article import Article
    from newsclean.store import rawpages, schema

    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # a store from before extractor_version: schema version 1
        for statement in schema.statements("sqlite", 1):
            conn.execute(statement)
        values = {name: "" for name in schema.V1_FIELDS} | {"language_probability": 0, "word_count": 0}
        values |= {"url": "https://a.example/1", "canonical_url": "https://a.example/1"}
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO articles ({', '.join(values)}) VALUES ({marks})", list(values.values()))
    conn = store.connect(db)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    assert "extractor_version" in columns
    assert conn.execute("SELECT extractor_version FROM articles").fetchone()[0] == ""
    conn.close()
    conn = store.connect(tmp_path / "new.sqlite")
    article = Article(url="https://a.example/2", canonical_url="https://a.example/2", title="T", text="x y").finish()
    page = RawPage("/archive/f.warc.gz", 1234, 567)
    assert store.save_article(conn, vars(article), page) == "new"
    assert rawpages.raw_page(conn, "https://a.example/2") == page
    assert [a.canonical_url for a in rawpages.archived(conn)] == ["https://a.example/2"]
    assert list(rawpages.archived(conn, site="other")) == []
    assert rawpages.stored_offsets(conn, "/archive/f.warc.gz", 1000) == {1234}
    rawpages.save_progress(conn, "/archive/f.warc.gz", 2000)
    assert rawpages.progress(conn, "/archive/f.warc.gz") == (2000, False)


def test_backfill_progress_moves_past_a_record_only_when_all_before_it_are_done() -> None:
    from newsclean.crawl.warc import _Tracker

    tracker = _Tracker("f", 100)
    for offset, length in ((100, 50), (150, 50), (200, 50)):
        tracker.add(offset)
        tracker.skip(RawPage("f", offset, length))
    tracker.skip(RawPage("f", 250, 10))  # a record skipped without extraction
    assert tracker.watermark == 100
    tracker.done(150)  # out of order: the first is still in flight
    assert tracker.watermark == 100
    tracker.done(100)
    assert tracker.watermark == 200
    tracker.done(200)
    tracker.read_all = True
    assert (tracker.watermark, tracker.finished) == (260, True)
