"""One SQL text for both kinds of store: what the functions that work on either (raw pages, WARC
progress, re-extraction, the two-way URL lookups) call instead of the connection itself.

Queries are written once, with ``?`` placeholders and plain SQL both SQLite and PostgreSQL read
(``ON CONFLICT ... DO UPDATE``, ``IN (...)``, ``UNION ALL``); :func:`execute` runs them on an
``sqlite3`` or a psycopg connection, or on a store (its ``conn``), and the rows it returns are read
by column name in both. Nothing here imports Scrapy or psycopg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from newsclean.dates import parse_time

Connection = Any
"""An ``sqlite3.Connection``, a psycopg ``Connection`` (autocommit, as the PostgreSQL store opens
it), or a store holding one of them as ``conn``."""


def connection(db: Connection) -> Any:
    """The connection of ``db`` (a store, or already a connection)."""
    return getattr(db, "conn", db)


def is_sqlite(db: Connection) -> bool:
    return isinstance(connection(db), sqlite3.Connection)


class Row(tuple[Any, ...]):
    """A PostgreSQL row read as ``sqlite3.Row`` reads: by position, by column name, and ``dict(row)``."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self.names[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.names)


def _rows(cursor: Any) -> Any:
    """psycopg's row factory for :class:`Row`."""
    names = {column.name: n for n, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


def _postgres(query: str) -> str:
    assert "%" not in query, "a query for both stores takes its values as parameters"
    return query.replace("?", "%s")


def execute(db: Connection, query: str, params: Sequence[Any] = ()) -> Any:
    """Run ``query`` (``?`` placeholders, no ``%``) on ``db``; a cursor whose rows are read by
    position or by column name (``sqlite3.Row``, or :class:`Row`)."""
    conn = connection(db)
    if isinstance(conn, sqlite3.Connection):
        cursor = conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(query, tuple(params))
    return conn.cursor(row_factory=_rows).execute(_postgres(query), tuple(params))


def executemany(db: Connection, query: str, params: Iterable[Sequence[Any]]) -> None:
    """Run ``query`` once for each of ``params`` on ``db``."""
    conn = connection(db)
    if isinstance(conn, sqlite3.Connection):
        conn.executemany(query, params)
    else:
        with conn.cursor() as cursor:
            cursor.executemany(_postgres(query), list(params))


@contextmanager
def transaction(db: Connection) -> Iterator[None]:
    """One transaction around the block: committed at its end, rolled back when it raises."""
    conn = connection(db)
    if isinstance(conn, sqlite3.Connection):
        with conn:
            yield
    else:
        with conn.transaction():
            yield


def commit(db: Connection) -> None:
    """Commit what ``db`` holds open (a PostgreSQL store's connection commits each statement by itself,
    or at the end of its ``transaction()`` block)."""
    conn = connection(db)
    if isinstance(conn, sqlite3.Connection):
        conn.commit()


def by_url(db: Connection, columns: str, urls: Sequence[str]) -> Any:
    """The ``columns`` of the article stored under any of ``urls``, its canonical URL looked up
    first, then the URL it was fetched from (two indexed lookups); None when none is stored."""
    marks = ", ".join("?" * len(urls))
    return execute(
        db,
        f"SELECT {columns} FROM articles WHERE canonical_url IN ({marks}) "
        f"UNION ALL SELECT {columns} FROM articles WHERE url IN ({marks}) LIMIT 1",
        (*urls, *urls),
    ).fetchone()


def fetched_time(db: Connection, *urls: str) -> datetime | None:
    """When the article stored under any of ``urls`` (as fetched, or canonical) was fetched; None when
    none is stored. Two indexed lookups, whatever the site or spider that stored it."""
    row = by_url(db, "fetched_at", urls)
    if row is None:
        return None
    return parse_time(row["fetched_at"]) or datetime.min.replace(tzinfo=UTC)


def page_dates(db: Connection, *urls: str) -> list[str]:
    """The dates (``published``, ``modified``) the page stored under any of ``urls`` carried; empty
    when none is stored or it carried none."""
    row = by_url(db, "published, modified", urls)
    return [row[k] for k in ("published", "modified") if row[k]] if row is not None else []
