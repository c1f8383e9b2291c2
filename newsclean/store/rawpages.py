"""Where each stored article's raw page is, and how far a WARC backfill got. Plain functions on a
store of either kind (SQLite or PostgreSQL: a store, or its connection), one SQL text for both
(:mod:`newsclean.store.dialect`); nothing here imports Scrapy.

``raw_pages``: one row per stored article (its canonical URL), naming the WARC record that holds the
HTTP response its row was extracted from: the file (a path, or the URL a backfill read), the
record's offset and length. Re-extraction reads the page back from there.

``warc_progress``: per WARC file a backfill reads, the offset below which every record has been
handled (stored, dropped or skipped), so that a killed backfill restarted with the same command
starts there; and whether the file was read to its end.

The tables are the store's own (:mod:`newsclean.store.schema`, versions 3 and 5), made when it is
opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from newsclean.archive import RawPage
from newsclean.dates import now_iso
from newsclean.store import dialect, schema
from newsclean.store.dialect import Connection

SCHEMA = schema.RAW_PAGES


def ensure_tables(db: Connection) -> None:
    """Make the tables on a connection opened without the store's migrations (a store has them)."""
    with dialect.transaction(db):
        for statement in SCHEMA:
            dialect.execute(db, statement)


def save_raw_page(db: Connection, canonical_url: str, page: RawPage) -> None:
    """Remember where ``canonical_url``'s raw page is, in the caller's transaction (the one of the
    article's row, which it commits)."""
    dialect.execute(
        db,
        "INSERT INTO raw_pages VALUES (?, ?, ?, ?, ?) ON CONFLICT(canonical_url) DO UPDATE SET "
        "warc_file = excluded.warc_file, warc_offset = excluded.warc_offset, warc_length = excluded.warc_length, "
        "saved_at = excluded.saved_at",
        (canonical_url, page.file, page.offset, page.length, now_iso()),
    )


def raw_page(db: Connection, canonical_url: str) -> RawPage | None:
    row = dialect.execute(
        db, "SELECT warc_file, warc_offset, warc_length FROM raw_pages WHERE canonical_url = ?", (canonical_url,)
    ).fetchone()
    return RawPage(row["warc_file"], int(row["warc_offset"]), int(row["warc_length"])) if row else None


def stored_offsets(db: Connection, source: str, start: int) -> set[int]:
    """Offsets of the records of ``source`` at or after ``start`` whose article is stored."""
    rows = dialect.execute(
        db, "SELECT warc_offset FROM raw_pages WHERE warc_file = ? AND warc_offset >= ?", (source, start)
    ).fetchall()
    return {int(r["warc_offset"]) for r in rows}


def progress(db: Connection, source: str) -> tuple[int, bool]:
    """(offset to resume ``source`` from, whether it was read to its end)."""
    row = dialect.execute(db, "SELECT done_offset, finished FROM warc_progress WHERE source = ?", (source,)).fetchone()
    return (int(row["done_offset"]), bool(row["finished"])) if row else (0, False)


def save_progress(db: Connection, source: str, done_offset: int, finished: bool = False, commit: bool = True) -> None:
    """Record how far the backfill of ``source`` got; ``commit=False``: in the caller's transaction
    (the one that holds the articles of the records below ``done_offset``), which it commits."""
    dialect.execute(
        db,
        "INSERT INTO warc_progress VALUES (?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
        "done_offset = excluded.done_offset, finished = excluded.finished, updated_at = excluded.updated_at",
        (source, done_offset, int(finished), now_iso()),
    )
    if commit:
        dialect.commit(db)


@dataclass
class Archived:
    """A stored article with its raw page: what re-extraction works on."""

    canonical_url: str
    url: str
    site: str
    page: RawPage


def archived(db: Connection, site: str | None = None, since: str | None = None) -> Iterator[Archived]:
    """Stored articles whose raw page is known, in file order; ``site`` and ``since`` (ISO date or
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
    for row in dialect.execute(db, query, params).fetchall():
        page = RawPage(row["warc_file"], int(row["warc_offset"]), int(row["warc_length"]))
        yield Archived(row["canonical_url"], row["url"], row["site"], page)
