"""The store: articles (one row per canonical URL), their earlier revisions, run records and the
validators of feeds and sitemaps; nothing here imports Scrapy. ``NEWSCLEAN_DB`` names it: an SQLite
file's path (:mod:`newsclean.store.sqlite`) or a PostgreSQL URL (:mod:`newsclean.store.postgres`),
with the same tables and columns and the same schema versions (:mod:`newsclean.store.schema`).
:mod:`newsclean.store.health` judges the run records.

What the crawl and the commands call, the same for both kinds::

    with open_store("data/newsclean.sqlite") as store:          # or "postgresql://user@host:5432/news"
        store.save_article(article)        # "new" | "updated" | "unchanged", one transaction
        store.fetched_time(url, ...)       # when the article stored under any of the URLs was fetched
        store.load_validators(); store.save_validators({url: (etag, last_modified)})
        run = store.start_run(spider); store.finish_run(run, values); store.runs(spider, limit)
        store.spiders(); store.articles_by_site(); store.schema_version()
        store.stored_since(url, when)      # stored at `when` or later (the shared frontier's check)

``RunLock(target, spider)`` is the one-run-at-a-time lock of a spider on a store: an ``flock``
beside an SQLite file, a PostgreSQL advisory lock (seen by every host) for PostgreSQL. The plain
functions of the SQLite store stay here too (``connect``, ``save_article(conn, ...)``, ...).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol, Self

from newsclean.store import schema, sqlite
from newsclean.store.postgres import AdvisoryRunLock, PostgresStore, describe, is_postgres
from newsclean.store.sqlite import (
    ARTICLE_COLUMNS,
    RUN_KEYS,
    connect,
    fetched_time,
    finish_run,
    load_validators,
    runs,
    save_article,
    save_validators,
    start_run,
    to_row,
)

__all__ = [
    "ARTICLE_COLUMNS",
    "RUN_KEYS",
    "RunLock",
    "SQLiteStore",
    "Store",
    "StoreMissingError",
    "connect",
    "exists",
    "fetched_time",
    "finish_run",
    "is_postgres",
    "load_validators",
    "open_store",
    "runs",
    "save_article",
    "save_validators",
    "start_run",
    "to_row",
    "where",
]


class Store(Protocol):
    """What every kind of store offers."""

    kind: str
    where: str

    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def schema_version(self) -> int: ...
    def save_article(self, article: Any, raw_page: Any = None, fingerprint: Any = None) -> str: ...
    def fetched_time(self, *urls: str) -> datetime | None: ...
    def page_dates(self, *urls: str) -> list[str]: ...
    def stored_since(self, url: str, since: str) -> bool: ...
    def load_validators(self) -> dict[str, tuple[str, str]]: ...
    def save_validators(self, validators: dict[str, tuple[str, str]]) -> None: ...
    def start_run(self, spider: str) -> int: ...
    def finish_run(self, run_id: int, values: dict[str, Any]) -> None: ...
    def runs(self, spider: str | None = None, limit: int | None = None) -> list[dict[str, Any]]: ...
    def spiders(self) -> list[str]: ...
    def articles_by_site(self) -> dict[str, int]: ...


class StoreMissingError(LookupError):
    """A command that only reads was given a store that is not there."""


class SQLiteStore:
    """The store in an SQLite file (the functions of :mod:`newsclean.store.sqlite`, on one connection)."""

    kind = "sqlite"

    def __init__(self, path: str | Path, conn: sqlite3.Connection | None = None) -> None:
        """``conn``: an open connection to use as it is (a read-only one, say): no tables are made."""
        self.path = Path(path)
        self.where = str(self.path)
        self.conn = conn if conn is not None else sqlite.connect(self.path)
        self._store = sqlite

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        try:
            return int(self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])
        except sqlite3.OperationalError:  # a store from before versions, opened read only
            return 0

    def save_article(self, article: Any, raw_page: Any = None, fingerprint: Any = None, commit: bool = True) -> str:
        return self._store.save_article(self.conn, article, raw_page, fingerprint, commit)

    def fetched_time(self, *urls: str) -> datetime | None:
        return self._store.fetched_time(self.conn, *urls)

    def page_dates(self, *urls: str) -> list[str]:
        return self._store.page_dates(self.conn, *urls)

    def stored_since(self, url: str, since: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM articles WHERE (url = ? OR canonical_url = ?) AND fetched_at >= ? LIMIT 1", (url, url, since)
        ).fetchone()
        return row is not None

    def load_validators(self) -> dict[str, tuple[str, str]]:
        return self._store.load_validators(self.conn)

    def save_validators(self, validators: dict[str, tuple[str, str]]) -> None:
        self._store.save_validators(self.conn, validators)

    def start_run(self, spider: str) -> int:
        return self._store.start_run(self.conn, spider)

    def finish_run(self, run_id: int, values: dict[str, Any]) -> None:
        self._store.finish_run(self.conn, run_id, values)

    def runs(self, spider: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return self._store.runs(self.conn, spider, limit)

    def spiders(self) -> list[str]:
        return [s for (s,) in self.conn.execute("SELECT DISTINCT spider FROM runs ORDER BY spider")]

    def articles_by_site(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT site, COUNT(*) FROM articles GROUP BY site").fetchall())


def open_store(target: str | Path, must_exist: bool = False) -> Store:
    """The store ``target`` names (an SQLite path or a PostgreSQL URL), its tables created or migrated.

    ``must_exist``: raise :class:`StoreMissingError` instead of creating an SQLite file, or when the
    PostgreSQL database cannot be reached.
    """
    if is_postgres(target):
        try:
            return PostgresStore(str(target))
        except Exception as exc:
            if must_exist and not isinstance(exc, schema.SchemaTooNewError):
                raise StoreMissingError(f"cannot open the store at {describe(str(target))}: {exc}") from exc
            raise
    if must_exist and not Path(target).is_file():
        raise StoreMissingError(f"no store at {target}")
    return SQLiteStore(target)


def exists(target: str | Path) -> bool:
    """True when the store may hold something: an SQLite file that is there, or any PostgreSQL URL."""
    return is_postgres(target) or Path(target).exists()


def where(target: str | Path) -> str:
    """The store named for people: a path as given, a PostgreSQL URL without its password."""
    return describe(str(target)) if is_postgres(target) else str(target)


class RunLock:
    """One run at a time of a spider on a store. ``holder()`` after a refusal says who holds it."""

    def __init__(self, target: str | Path, spider: str) -> None:
        self.target = target
        self.spider = spider
        self._pg: AdvisoryRunLock | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> str | None:
        """Takes the lock; returns None, or who holds it (``pid N`` / ``newsclean NAME pid N on HOST``)."""
        if is_postgres(self.target):
            self._pg = AdvisoryRunLock(str(self.target), self.spider)
            return self._pg.acquire()
        path = Path(self.target)
        lock = path.with_name(f"{path.name}.{self.spider}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            return f"pid {holder}"
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return None

    def release(self) -> None:
        if self._pg is not None:
            self._pg.release()
        if self._file is not None and not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
