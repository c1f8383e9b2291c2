"""Where each stored article's raw page is, and how far a WARC backfill got. Plain functions on a
store connection; nothing here imports Scrapy.

``raw_pages``: one row per stored article (its canonical URL), naming the WARC record that holds the
HTTP response its row was extracted from: the file (a path, or the URL a backfill read), the
record's offset and length. Re-extraction reads the page back from there.

``warc_progress``: per WARC file a backfill reads, the offset below which every record has been
handled (stored, dropped or skipped), so that a killed backfill restarted with the same command
starts there; and whether the file was read to its end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from newsclean.archive import RawPage
from newsclean.dates import now_iso

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS raw_pages (
        canonical_url TEXT PRIMARY KEY, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
        warc_length INTEGER NOT NULL DEFAULT 0, saved_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS raw_pages_record ON raw_pages (warc_file, warc_offset)",
    """CREATE TABLE IF NOT EXISTS warc_progress (
        source TEXT PRIMARY KEY, done_offset INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL)""",
)


def ensure_tables(conn: sqlite3.Connection) -> None:
    with conn:
        for statement in SCHEMA:
            conn.execute(statement)


def save_raw_page(conn: sqlite3.Connection, canonical_url: str, page: RawPage) -> None:
    """Remember where ``canonical_url``'s raw page is (the caller commits, with the article's row)."""
    conn.execute(
        "INSERT INTO raw_pages VALUES (?, ?, ?, ?, ?) ON CONFLICT(canonical_url) DO UPDATE SET "
        "warc_file = excluded.warc_file, warc_offset = excluded.warc_offset, warc_length = excluded.warc_length, "
        "saved_at = excluded.saved_at",
        (canonical_url, page.file, page.offset, page.length, now_iso()),
    )


def raw_page(conn: sqlite3.Connection, canonical_url: str) -> RawPage | None:
    row = conn.execute(
        "SELECT warc_file, warc_offset, warc_length FROM raw_pages WHERE canonical_url = ?", (canonical_url,)
    ).fetchone()
    return RawPage(row[0], row[1], row[2]) if row else None


def stored_offsets(conn: sqlite3.Connection, source: str, start: int) -> set[int]:
    """Offsets of the records of ``source`` at or after ``start`` whose article is stored."""
    rows = conn.execute(
        "SELECT warc_offset FROM raw_pages WHERE warc_file = ? AND warc_offset >= ?", (source, start)
    ).fetchall()
    return {r[0] for r in rows}


def progress(conn: sqlite3.Connection, source: str) -> tuple[int, bool]:
    """(offset to resume ``source`` from, whether it was read to its end)."""
    row = conn.execute("SELECT done_offset, finished FROM warc_progress WHERE source = ?", (source,)).fetchone()
    return (int(row[0]), bool(row[1])) if row else (0, False)


def save_progress(
    conn: sqlite3.Connection, source: str, done_offset: int, finished: bool = False, commit: bool = True
) -> None:
    """Record how far the backfill of ``source`` got; ``commit=False``: in the caller's transaction
    (the one that holds the articles of the records below ``done_offset``), which it commits."""
    conn.execute(
        "INSERT INTO warc_progress VALUES (?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
        "done_offset = excluded.done_offset, finished = excluded.finished, updated_at = excluded.updated_at",
        (source, done_offset, int(finished), now_iso()),
    )
    if commit:
        conn.commit()


@dataclass
class Archived:
    """A stored article with its raw page: what re-extraction works on."""

    canonical_url: str
    url: str
    site: str
    page: RawPage


def archived(conn: sqlite3.Connection, site: str | None = None, since: str | None = None) -> Iterator[Archived]:
    """Stored articles whose raw page is known, oldest fetch first; ``site`` and ``since`` (ISO date or
    time, compared with ``fetched_at``) narrow them down."""
    query = (
        "SELECT a.canonical_url, a.url, a.site, r.warc_file, r.warc_offset, r.warc_length "
        "FROM articles a JOIN raw_pages r ON r.canonical_url = a.canonical_url"
    )
    where, params = [], []
    if site:
        where.append("a.site = ?")
        params.append(site)
    if since:
        where.append("a.fetched_at >= ?")
        params.append(since)
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY r.warc_file, r.warc_offset"
    for row in conn.execute(query, params).fetchall():
        yield Archived(row[0], row[1], row[2], RawPage(row[3], row[4], row[5]))
