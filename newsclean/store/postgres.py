"""The PostgreSQL store: the same tables and columns as the SQLite store, for crawls on several hosts.

``NEWSCLEAN_DB=postgresql://user@host:port/db`` (any libpq connection URL) selects it. The tables are
created on first use and migrated forward (:mod:`newsclean.store.schema`); concurrent first uses are
serialised by a transaction-scoped advisory lock. Each article is written in one transaction: its
row locked (``SELECT ... FOR UPDATE``), the previous text kept in ``revisions`` when it changed, then
an upsert on ``canonical_url``, and where its raw page is (``raw_pages``), so a crash never leaves
half a row and two hosts storing the same article do not interleave. A WARC backfill's progress
(``warc_progress``) goes through the same writer, behind the articles it counts.

The crawl's pipeline writes through :class:`ThreadWriter` (one connection in a thread of its own,
awaited from the crawl's event loop, so the reactor keeps downloading while PostgreSQL commits);
everything else uses :class:`PostgresStore` on one ordinary connection.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from collections.abc import Mapping, MutableMapping
from datetime import datetime
from functools import partial
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from newsclean.archive import RawPage
from newsclean.dates import now_iso
from newsclean.store import clusters, dialect, rawpages, schema
from newsclean.store.clusters import Fingerprint
from newsclean.store.sqlite import ARTICLE_COLUMNS, to_row

logger = logging.getLogger(__name__)

# The advisory lock key under which migrations run (any fixed 64-bit number; "newsclean" in ASCII).
_MIGRATION_LOCK = 0x6E657773636C65
# The advisory lock key under which articles join their wire-copy clusters ("clusters").
_CLUSTER_LOCK = clusters.LOCK
SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: object) -> bool:
    """True when ``target`` (a ``NEWSCLEAN_DB`` value) names a PostgreSQL database."""
    return isinstance(target, str) and target.startswith(SCHEMES)


def describe(url: str) -> str:
    """``url`` for messages: ``postgresql://user@host:port/db``, never the password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unreadable URL)"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{info.get('host', '')}{port}/{info.get('dbname', '')}"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _insert_columns(columns: list[str]) -> str:
    return f"({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)})"


def _queries() -> dict[str, str]:
    updates = ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLUMNS if c != "canonical_url")
    return {
        "old": "SELECT content_hash, title, text, modified, fetched_at FROM articles WHERE canonical_url = %s "
        "FOR UPDATE",
        "revision": "INSERT INTO revisions VALUES (%s, %s, %s, %s, %s, %s, %s)",
        "upsert": f"INSERT INTO articles {_insert_columns(ARTICLE_COLUMNS)} "
        f"ON CONFLICT (canonical_url) DO UPDATE SET {updates}",
    }


def _revision(row: Mapping[str, Any], old: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["canonical_url"], old["content_hash"], old["title"], old["text"], old["modified"],
            old["fetched_at"], now_iso())  # fmt: skip


def _outcome(old: Mapping[str, Any] | None, row: Mapping[str, Any]) -> str:
    if old is None:
        return "new"
    return "updated" if old["content_hash"] != row["content_hash"] else "unchanged"


def migrate(conn: psycopg.Connection[Any], where: str) -> None:
    """Create the tables on first use and apply every migration not yet recorded."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(schema.version_table("postgresql"))
        current = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version").fetchone()
        for version in schema.pending(int(current["v"] if current else 0), where):
            for statement in schema.statements("postgresql", version):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (%s, %s)", (version, now_iso()))


def connect(url: str, application_name: str = "newsclean") -> psycopg.Connection[Any]:
    """A connection in autocommit mode (transactions are explicit), rows as dicts."""
    return psycopg.connect(url, autocommit=True, row_factory=dict_row, application_name=application_name)


class PostgresStore:
    """The store on one PostgreSQL connection. Same methods as the SQLite store's."""

    kind = "postgresql"

    def __init__(self, url: str, migrate_schema: bool = True, wait_for_flush: bool = True) -> None:
        """``wait_for_flush=False``: commits return before the server has flushed them to disk
        (``synchronous_commit = off``): a server crash may lose the last commits, never half a row."""
        self.url = url
        self.where = describe(url)
        self.conn = connect(url)
        if not wait_for_flush:
            self.conn.execute("SET synchronous_commit = off")
        if migrate_schema:
            migrate(self.conn, self.where)
        self._queries = _queries()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version").fetchone()
        return int(row["v"]) if row else 0

    def save_article(
        self, article: Mapping[str, Any], raw_page: RawPage | None = None, fingerprint: Fingerprint | None = None
    ) -> str:
        """Insert or update an article's row in one transaction: ``new``, ``updated`` or ``unchanged``.

        In that transaction, as in the SQLite store: the article joins its wire-copy cluster
        (:mod:`newsclean.store.clusters`; ``fingerprint``: its MinHash computed by an extraction
        worker), and ``raw_page``, where the page's WARC record is, goes to ``raw_pages``. Clustering
        reads the other articles' signatures and may rewrite their rows, so the transactions that
        cluster take turns, on every host: a transaction-scoped advisory lock, taken first."""
        row = to_row(article)
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CLUSTER_LOCK,))
            clusters.cluster_row(self.conn, row, fingerprint)
            if isinstance(article, MutableMapping):  # the caller gets what the store gave the row
                article["cluster"], article["source"] = row["cluster"], row["source"]
                article["source_evidence"] = json.loads(row["source_evidence"] or "[]")
            old = self.conn.execute(self._queries["old"], (row["canonical_url"],)).fetchone()
            if old is not None and old["content_hash"] != row["content_hash"]:
                self.conn.execute(self._queries["revision"], _revision(row, old))
            self.conn.execute(self._queries["upsert"], row)
            if raw_page is not None:
                rawpages.save_raw_page(self.conn, row["canonical_url"], raw_page)
        return _outcome(old, row)

    def fetched_time(self, *urls: str) -> datetime | None:
        """When the article stored under any of ``urls`` (as fetched, or canonical) was fetched; None
        when none is stored."""
        return dialect.fetched_time(self.conn, *urls)

    def page_dates(self, *urls: str) -> list[str]:
        """The dates (``published``, ``modified``) the page stored under any of ``urls`` carried."""
        return dialect.page_dates(self.conn, *urls)

    def stored_since(self, url: str, since: str) -> bool:
        """True when an article fetched from (or canonical at) ``url`` was stored at ``since`` or later."""
        row = self.conn.execute(
            "SELECT 1 FROM articles WHERE (url = %s OR canonical_url = %s) AND fetched_at >= %s LIMIT 1",
            (url, url, since),
        ).fetchone()
        return row is not None

    def load_validators(self) -> dict[str, tuple[str, str]]:
        rows = self.conn.execute("SELECT url, etag, last_modified FROM validators").fetchall()
        return {r["url"]: (r["etag"], r["last_modified"]) for r in rows}

    def save_validators(self, validators: dict[str, tuple[str, str]]) -> None:
        stamp = now_iso()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO validators VALUES (%s, %s, %s, %s) ON CONFLICT (url) DO UPDATE SET "
                "etag = excluded.etag, last_modified = excluded.last_modified, saved_at = excluded.saved_at",
                [(url, etag, modified, stamp) for url, (etag, modified) in validators.items()],
            )

    def start_run(self, spider: str) -> int:
        row = self.conn.execute(
            "INSERT INTO runs (spider, start) VALUES (%s, %s) RETURNING id", (spider, now_iso())
        ).fetchone()
        return int(row["id"]) if row else 0

    def finish_run(self, run_id: int, values: dict[str, Any]) -> None:
        values = {**values, "end": now_iso()}
        for key in ("dropped", "errors", "counts"):
            values[key] = json.dumps(values.get(key, {}), sort_keys=True)
        assignments = ", ".join(f'"{k}" = %({k})s' for k in values)
        self.conn.execute(f"UPDATE runs SET {assignments} WHERE id = %(id)s", {**values, "id": run_id})

    def runs(self, spider: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs" + (" WHERE spider = %s" if spider else "") + " ORDER BY id DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        found = []
        for row in self.conn.execute(query, (spider,) if spider else ()).fetchall():
            record = dict(row)
            for key in ("dropped", "errors", "counts"):
                record[key] = json.loads(record[key])
            found.append(record)
        return found

    def spiders(self) -> list[str]:
        """Every spider with a run in the store, by name."""
        return [r["spider"] for r in self.conn.execute("SELECT DISTINCT spider FROM runs ORDER BY spider")]

    def articles_by_site(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT site, COUNT(*) AS n FROM articles GROUP BY site").fetchall()
        return {r["site"]: int(r["n"]) for r in rows}


class ThreadWriter:
    """Writes articles from the crawl's event loop without blocking it: one PostgreSQL connection,
    owned by one thread of its own, one transaction per article, awaited by the pipeline.

    (psycopg's ``AsyncConnectionPool`` on Scrapy's asyncio reactor was tried first: under a crawl's
    load its waiters starved for 30 s at a time while the server showed the pool's connections idle,
    and articles were lost to ``PoolTimeout``. A plain connection in a thread has no such failure, and
    one connection commits far faster than a crawl produces articles.)
    """

    def __init__(self, url: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.url = url
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsclean-postgres")
        self.store: PostgresStore | None = None

    async def _run(self, call: Any, *args: Any) -> Any:
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.executor, call, *args)

    async def open(self) -> None:
        # The crawl's commits do not wait for the disk: the promise SQLite's synchronous=NORMAL makes
        # (a crash of the server may lose the last articles, which the next run fetches again; it
        # never leaves half a row), at several times the rows per second.
        self.store = await self._run(partial(PostgresStore, self.url, wait_for_flush=False))

    async def close(self) -> None:
        if self.store is not None:
            await self._run(self.store.close)
            self.store = None
        self.executor.shutdown(wait=True)

    async def save_article(
        self, article: MutableMapping[str, Any], raw_page: RawPage | None = None, fingerprint: Fingerprint | None = None
    ) -> str:
        """Stores ``article`` (its fields read here, on the loop's thread) and where its raw page is,
        in one transaction; ``article`` then gets the cluster (and source) the store gave its row."""
        assert self.store is not None
        row = {name: article.get(name) for name in ARTICLE_COLUMNS}
        outcome = str(await self._run(self.store.save_article, row, raw_page, fingerprint))
        for name in ("cluster", "source", "source_evidence"):
            article[name] = row[name]
        return outcome

    def save_progress(self, source: str, done_offset: int, finished: bool) -> None:
        """Queue a WARC backfill's progress behind the articles already handed to this writer.

        One thread writes, in the order it is given: every article whose save has returned (a
        record is done only then) is committed before this is written, so the progress never runs
        ahead of the articles it counts. Not awaited: a failure is logged, and the backfill's next
        progress (or its resume, which skips the records whose article is stored) makes up for it.
        """
        store = self.store
        if store is None:
            return
        future = self.executor.submit(rawpages.save_progress, store.conn, source, done_offset, finished)
        future.add_done_callback(_log_failure)


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("could not save the backfill's progress: %s", future.exception())


class AdvisoryRunLock:
    """One run at a time per spider and PostgreSQL store, on every host: a session-level advisory lock
    held by a connection of its own for the whole run. PostgreSQL releases it when that connection
    ends, however the process ends (a killed crawl's connection is closed by the server when the
    kernel closes its socket)."""

    def __init__(self, url: str, spider: str) -> None:
        self.key = lock_key(f"newsclean run {spider}")
        self.holder = f"newsclean {spider} pid {os.getpid()} on {socket.gethostname()}"
        self.conn = connect(url, application_name=self.holder[:63])

    def acquire(self) -> str | None:
        """Takes the lock; returns None, or who holds it (``newsclean NAME pid N on HOST``)."""
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (self.key,)).fetchone()
        if row and row["ok"]:
            return None
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        holder = self.conn.execute(
            "SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s "
            "AND l.objsubid = 1",
            (high, low),
        ).fetchone()
        self.conn.close()
        return (holder["name"] if holder else "") or "another session"

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.close()  # ends the session, and the lock with it
