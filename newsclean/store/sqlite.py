"""The SQLite store: articles (one row per canonical URL), their earlier revisions, run records and
the validators of feeds and sitemaps. Plain functions on a connection; nothing here imports Scrapy.

Every write is one transaction, so a crash never leaves half a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsclean.archive import RawPage
from newsclean.article import Article
from newsclean.dates import now_iso, parse_time
from newsclean.store import rawpages

ARTICLE_COLUMNS = [f.name for f in fields(Article)]
_SQL_TYPES = {"int": "INTEGER", "float": "REAL"}
# What `newsclean runs --json` prints for a run, in this order.
RUN_KEYS = ("spider", "start", "end", "pages_fetched", "new", "updated", "skipped", "dropped", "errors")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS revisions (
        canonical_url TEXT NOT NULL, content_hash TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
        modified TEXT NOT NULL, fetched_at TEXT NOT NULL, replaced_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS revisions_url ON revisions (canonical_url)",
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY, spider TEXT NOT NULL, start TEXT NOT NULL, end TEXT,
        pages_fetched INTEGER NOT NULL DEFAULT 0, new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
        dropped TEXT NOT NULL DEFAULT '{}', errors TEXT NOT NULL DEFAULT '{}',
        article_pages INTEGER NOT NULL DEFAULT 0, articles INTEGER NOT NULL DEFAULT 0,
        links INTEGER NOT NULL DEFAULT 0, not_modified INTEGER NOT NULL DEFAULT 0,
        avg_words REAL NOT NULL DEFAULT 0, finish_reason TEXT, alarm TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS runs_spider ON runs (spider, id)",
    """CREATE TABLE IF NOT EXISTS validators (
        url TEXT PRIMARY KEY, etag TEXT NOT NULL, last_modified TEXT NOT NULL, saved_at TEXT NOT NULL)""",
)


def articles_table_sql() -> str:
    """``CREATE TABLE articles``: one column per Article field, one row per canonical URL."""
    columns = []
    for f in fields(Article):
        kind = _SQL_TYPES.get(str(f.type), "TEXT")
        key = " PRIMARY KEY" if f.name == "canonical_url" else " NOT NULL"
        columns.append(f"{f.name} {kind}{key}")
    return f"CREATE TABLE IF NOT EXISTS articles ({', '.join(columns)})"


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to the store at ``path``, created with its folder and tables if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL keeps every committed row through a crash of the process (what `kill -9`
    # does); only a power cut may lose the last commits. FULL cost an fsync, 2.3 ms, per article.
    conn.execute("PRAGMA synchronous=NORMAL")
    with conn:
        conn.execute(articles_table_sql())
        have = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
        for f in fields(Article):  # a store made before a field was added gets its column
            if f.name not in have:
                kind = _SQL_TYPES.get(str(f.type), "TEXT")
                default = "''" if kind == "TEXT" else "0"
                conn.execute(f"ALTER TABLE articles ADD COLUMN {f.name} {kind} NOT NULL DEFAULT {default}")
        conn.execute("CREATE INDEX IF NOT EXISTS articles_site ON articles (site)")
        conn.execute("CREATE INDEX IF NOT EXISTS articles_url ON articles (url)")
        for statement in (*SCHEMA, *rawpages.SCHEMA):
            conn.execute(statement)
    return conn


def to_row(article: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of an article: lists as JSON arrays, everything else as it is."""
    row = {name: article.get(name) for name in ARTICLE_COLUMNS}
    for name, value in row.items():
        if isinstance(value, list):
            row[name] = json.dumps(value, ensure_ascii=False)
    return row


_UPSERT = (
    f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({', '.join(':' + c for c in ARTICLE_COLUMNS)}) "
    f"ON CONFLICT(canonical_url) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLUMNS if c != "canonical_url")
)


def save_article(conn: sqlite3.Connection, article: Mapping[str, Any], raw_page: RawPage | None = None) -> str:
    """Insert or update an article's row: ``"new"``, ``"updated"`` (text changed) or ``"unchanged"``.

    When the text changed, the previous one is kept in ``revisions``, in the same transaction;
    ``raw_page``, where the page's WARC record is, goes to ``raw_pages`` in it too.
    """
    row = to_row(article)
    with conn:
        old = conn.execute(
            "SELECT content_hash, title, text, modified, fetched_at FROM articles WHERE canonical_url = ?",
            (row["canonical_url"],),
        ).fetchone()
        if old is not None and old["content_hash"] != row["content_hash"]:
            conn.execute(
                "INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row["canonical_url"],
                    old["content_hash"],
                    old["title"],
                    old["text"],
                    old["modified"],
                    old["fetched_at"],
                    now_iso(),
                ),
            )
        conn.execute(_UPSERT, row)
        if raw_page is not None:
            rawpages.save_raw_page(conn, row["canonical_url"], raw_page)
    if old is None:
        return "new"
    return "updated" if old["content_hash"] != row["content_hash"] else "unchanged"


def fetched_time(conn: sqlite3.Connection, *urls: str) -> datetime | None:
    """When the article stored under any of ``urls`` (as fetched, or canonical) was fetched; None when
    none is stored. Two indexed lookups, whatever the site or spider that stored it."""
    marks = ", ".join("?" * len(urls))
    row = conn.execute(
        f"SELECT fetched_at FROM articles WHERE canonical_url IN ({marks}) "
        f"UNION ALL SELECT fetched_at FROM articles WHERE url IN ({marks}) LIMIT 1",
        (*urls, *urls),
    ).fetchone()
    if row is None:
        return None
    return parse_time(row["fetched_at"]) or datetime.min.replace(tzinfo=UTC)


def load_validators(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """URL -> (ETag, Last-Modified) of every feed, sitemap and listing page seen before."""
    return {r["url"]: (r["etag"], r["last_modified"]) for r in conn.execute("SELECT * FROM validators")}


def save_validators(conn: sqlite3.Connection, validators: dict[str, tuple[str, str]]) -> None:
    """Remember the validators of pages processed in full, for conditional requests next time."""
    stamp = now_iso()
    with conn:
        conn.executemany(
            "INSERT INTO validators VALUES (?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
            "etag = excluded.etag, last_modified = excluded.last_modified, saved_at = excluded.saved_at",
            [(url, etag, modified, stamp) for url, (etag, modified) in validators.items()],
        )


def start_run(conn: sqlite3.Connection, spider: str) -> int:
    """Record the start of a run; returns its id. A run killed before its end keeps ``end`` NULL."""
    with conn:
        return int(conn.execute("INSERT INTO runs (spider, start) VALUES (?, ?)", (spider, now_iso())).lastrowid or 0)


def finish_run(conn: sqlite3.Connection, run_id: int, values: dict[str, Any]) -> None:
    """Record what a run did (columns of ``runs``) and its end time."""
    values = {**values, "end": now_iso()}
    for key in ("dropped", "errors"):
        values[key] = json.dumps(values.get(key, {}), sort_keys=True)
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    with conn:
        conn.execute(f"UPDATE runs SET {assignments} WHERE id = :id", {**values, "id": run_id})


def runs(conn: sqlite3.Connection, spider: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs, newest first, every column, ``dropped`` and ``errors`` decoded."""
    query = "SELECT * FROM runs" + (" WHERE spider = ?" if spider else "") + " ORDER BY id DESC"
    if limit:
        query += f" LIMIT {int(limit)}"
    found = []
    for row in conn.execute(query, (spider,) if spider else ()):
        record = dict(row)
        record["dropped"], record["errors"] = json.loads(record["dropped"]), json.loads(record["errors"])
        found.append(record)
    return found
