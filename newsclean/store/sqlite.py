"""The SQLite store: articles (one row per canonical URL), their earlier revisions, run records and
the validators of feeds and sitemaps. Plain functions on a connection; nothing here imports Scrapy.

Every write is one transaction, so a crash never leaves half a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, MutableMapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from newsclean.archive import RawPage
from newsclean.article import Article
from newsclean.dates import now_iso
from newsclean.store import clusters, rawpages, schema
from newsclean.store.dialect import fetched_time, page_dates  # noqa: F401 (the lookups both kinds share)

ARTICLE_COLUMNS = [f.name for f in fields(Article)]
# What `newsclean runs --json` prints for a run, in this order.
RUN_KEYS = ("spider", "start", "end", "pages_fetched", "new", "updated", "skipped", "dropped", "errors")


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to the store at ``path``, created with its folder and tables if missing, and its
    schema brought to the current version (:mod:`newsclean.store.schema`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL keeps every committed row through a crash of the process (what `kill -9`
    # does); only a power cut may lose the last commits. FULL cost an fsync, 2.3 ms, per article.
    conn.execute("PRAGMA synchronous=NORMAL")
    migrate(conn, str(path))
    return conn


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Create the tables on first use and apply every migration not yet recorded, one writer at a time."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(schema.version_table("sqlite"))
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        for version in schema.pending(int(current), where):
            for statement in schema.statements("sqlite", version):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now_iso()))
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def to_row(article: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of an article: lists as JSON arrays, booleans as 0 and 1, everything else as it is."""
    row = {name: article.get(name) for name in ARTICLE_COLUMNS}
    for name, value in row.items():
        if isinstance(value, list):
            row[name] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            row[name] = int(value)
    return row


_UPSERT = (
    f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({', '.join(':' + c for c in ARTICLE_COLUMNS)}) "
    f"ON CONFLICT(canonical_url) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_COLUMNS if c != "canonical_url")
)


def save_article(
    conn: sqlite3.Connection,
    article: Mapping[str, Any],
    raw_page: RawPage | None = None,
    fingerprint: clusters.Fingerprint | None = None,
    commit: bool = True,
) -> str:
    """Insert or update an article's row: ``"new"``, ``"updated"`` (text changed) or ``"unchanged"``.

    When the text changed, the previous one is kept in ``revisions``, in the same transaction. The
    article joins its wire-copy cluster (:mod:`newsclean.store.clusters`) in that transaction too, and
    ``raw_page``, where the page's WARC record is, goes to ``raw_pages``. ``fingerprint``: the text's
    MinHash signature and bands when an extraction worker computed them (else computed here).

    ``commit=False``: the article joins the write transaction the caller holds open (begun here if
    none is), in a savepoint of its own, so that a failure undoes this article alone; the caller
    commits (a backfill commits once a second, with its progress: :mod:`newsclean.crawl.warc`).
    """
    row = to_row(article)
    if commit:
        with conn:
            old = _save(conn, article, row, raw_page, fingerprint)
    else:
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        conn.execute("SAVEPOINT article")
        try:
            old = _save(conn, article, row, raw_page, fingerprint)
        except BaseException:
            conn.execute("ROLLBACK TO article")
            conn.execute("RELEASE article")
            raise
        conn.execute("RELEASE article")
    if old is None:
        return "new"
    return "updated" if old["content_hash"] != row["content_hash"] else "unchanged"


def _save(
    conn: sqlite3.Connection,
    article: Mapping[str, Any],
    row: dict[str, Any],
    raw_page: RawPage | None,
    fingerprint: clusters.Fingerprint | None,
) -> Any:
    """:func:`save_article`'s writes, in the caller's transaction; the row it replaced (or None)."""
    clusters.cluster_row(conn, row, fingerprint)
    if isinstance(article, MutableMapping):  # the crawl's item gets what the store gave it
        article["cluster"], article["source"] = row["cluster"], row["source"]
        article["source_evidence"] = json.loads(row["source_evidence"] or "[]")
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
    return old


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
    for key in ("dropped", "errors", "counts"):
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
        for key in ("dropped", "errors", "counts"):
            record[key] = json.loads(record[key])
        found.append(record)
    return found
