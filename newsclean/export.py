"""Exports of the store for analysis: Parquet, CSV and JSON Lines, in the versioned schema of
:mod:`newsclean.schema`. Plain functions on a DB-API connection; nothing here imports Scrapy.

Streaming: rows are read from the store in batches and written as they come (a Parquet row group
each time one fills), so memory stays flat whatever the store's size. Output goes to a temporary file
beside the target, renamed over it only when complete: an export that fails leaves no half-written
file (and an older export at the same path untouched).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from newsclean import schema
from newsclean.dates import parse_time

FORMATS = ("parquet", "csv", "jsonl")
# Rows read from the store at a time, and rows per Parquet row group (a row group is written as soon
# as it fills; about 30 MB of text for articles of average length).
BATCH_ROWS = 2_000
ROW_GROUP_ROWS = 10_000
ROW_GROUP_BYTES = 64 * 1024 * 1024
PARQUET_COMPRESSION = "zstd"
SCHEMA_FILE = "schema.json"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class Filters:
    """Which stored articles an export takes. Empty lists and None take everything.

    ``since`` / ``until`` bound `published` (both inclusive); an article with no publication date is
    left out when either is given.
    """

    sites: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


def parse_bound(raw: str, *, end: bool = False) -> datetime:
    """A ``--since`` / ``--until`` value as a UTC moment. A date alone is its first moment, or with
    ``end``, its last (so ``--until 2024-12-31`` includes the whole day). Raises ValueError."""
    raw = raw.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        day = datetime.combine(date.fromisoformat(raw), time(0), tzinfo=UTC)
        return day + timedelta(days=1) - _MICROSECOND if end else day
    when = parse_time(raw)
    if when is None:
        raise ValueError(f"not a date: {raw!r}")
    return when


def utc(value: str | None) -> datetime | None:
    """A stored ISO 8601 moment (or date) as an aware UTC datetime; None when empty or not a date."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return parse_time(value)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _cluster_table(conn: Any) -> bool:
    found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'clusters'").fetchone()
    return found is not None


def _article_columns(conn: Any) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(articles)")}


def query(conn: Any, filters: Filters) -> tuple[str, list[Any]]:
    """The SQL that reads the articles ``filters`` select (sites and languages; dates are checked on
    each row), with the cluster's original and size."""
    columns = _article_columns(conn)
    wanted = []
    for name in schema.FIELD_NAMES:
        if name in columns:
            wanted.append(f"a.{name}")
        elif name not in ("cluster_original", "cluster_size"):
            wanted.append(f"{_empty(name)} AS {name}")  # a store older than the field
    if _cluster_table(conn) and "cluster" in columns:
        joined = " LEFT JOIN clusters c ON c.id = a.cluster AND a.cluster != ''"
        wanted += ["COALESCE(c.original, a.canonical_url) AS cluster_original", "COALESCE(c.size, 1) AS cluster_size"]
    else:
        joined = ""
        wanted += ["a.canonical_url AS cluster_original", "1 AS cluster_size"]
    where, params = [], []
    for column, values in (("site", filters.sites), ("language", filters.languages)):
        if values:
            where.append(f"a.{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    sql = f"SELECT {', '.join(wanted)} FROM articles a{joined}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY a.rowid", params


def _empty(name: str) -> str:
    kind = next(f.type for f in schema.FIELDS if f.name == name)
    return {"list<string>": "'[]'", "int64": "0", "float64": "0.0"}.get(kind, "''")


def records(conn: Any, filters: Filters | None = None, batch: int = BATCH_ROWS) -> Iterator[dict[str, Any]]:
    """The selected articles, one dict per article in the export schema's types: lists decoded,
    moments as aware UTC datetimes (None when empty). Read ``batch`` rows at a time."""
    filters = filters or Filters()
    sql, params = query(conn, filters)
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    bounded = filters.since is not None or filters.until is not None
    while rows := cursor.fetchmany(batch):
        for row in rows:
            record = dict(zip(names, row, strict=True))
            for name in schema.LIST_FIELDS:
                raw = record[name]
                record[name] = json.loads(raw) if raw else []
            for name in schema.TIMESTAMPS:
                record[name] = utc(record[name])
            if bounded:
                published = record["published"]
                if published is None:
                    continue
                if filters.since is not None and published < filters.since:
                    continue
                if filters.until is not None and published > filters.until:
                    continue
            yield record


def record_of(article: Mapping[str, Any]) -> dict[str, Any]:
    """An article as the crawl has it (the Article's fields) in the export schema's types."""
    record: dict[str, Any] = {name: article.get(name) for name in schema.FIELD_NAMES}
    for name in schema.LIST_FIELDS:
        record[name] = list(record[name] or [])
    for name in schema.TIMESTAMPS:
        value = record[name]
        record[name] = value if isinstance(value, datetime) or value is None else utc(value)
    record["cluster_original"] = record["cluster_original"] or record["canonical_url"] or ""
    record["cluster_size"] = record["cluster_size"] or 1
    for f in schema.FIELDS:
        if record[f.name] is None and f.name not in schema.TIMESTAMPS:
            record[f.name] = {"int64": 0, "float64": 0.0}.get(f.type, "")
    return record


def iso_utc(value: datetime | None) -> str:
    """A moment as CSV and JSON Lines write it: ISO 8601 UTC with ``Z`` (empty when None)."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ParquetArticleWriter:
    """Writes export records to a Parquet file (or binary file object) in the export schema, zstd,
    one row group each time ``row_group_rows`` rows (or ``row_group_bytes`` of text) have come."""

    def __init__(
        self, sink: str | Path | IO[bytes], row_group_rows: int = ROW_GROUP_ROWS, row_group_bytes: int = ROW_GROUP_BYTES
    ) -> None:
        import pyarrow.parquet as pq

        self.schema = schema.arrow_schema()
        self.writer = pq.ParquetWriter(
            sink if not isinstance(sink, Path) else str(sink),
            self.schema,
            compression=PARQUET_COMPRESSION,
            use_dictionary=["site", "source", "language", "section", "rules", "method"],
        )
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self.names = list(schema.FIELD_NAMES)
        self.columns: dict[str, list[Any]] = {name: [] for name in self.names}
        self.pending = 0
        self.pending_bytes = 0
        self.rows = 0

    def write(self, record: Mapping[str, Any]) -> None:
        for name in self.names:
            self.columns[name].append(record[name])
        self.pending += 1
        self.pending_bytes += len(record["text"] or "")
        if self.pending >= self.row_group_rows or self.pending_bytes >= self.row_group_bytes:
            self.flush()

    def flush(self) -> None:
        """Write what has come since the last row group as a row group of its own."""
        if not self.pending:
            return
        import pyarrow as pa

        arrays = []
        for name in self.names:
            kind = self.schema.field(name).type
            if pa.types.is_timestamp(kind):
                values = [None if v is None else (v - _EPOCH) // _MICROSECOND for v in self.columns[name]]
                arrays.append(pa.array(values, type=pa.int64()).cast(kind))
            else:
                arrays.append(pa.array(self.columns[name], type=kind))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=self.pending)
        self.rows += self.pending
        self.columns = {name: [] for name in self.names}
        self.pending = self.pending_bytes = 0

    def close(self) -> None:
        self.flush()
        self.writer.close()

    def abort(self) -> None:
        """Stop without writing what is pending (the file is being thrown away)."""
        self.columns = {name: [] for name in self.names}
        self.pending = 0
        with contextlib.suppress(Exception):
            self.writer.close()


class CsvArticleWriter:
    """Export records as CSV: a header of field names, lists as JSON arrays, moments ISO 8601 UTC."""

    def __init__(self, handle: IO[str]) -> None:
        self.out = csv.writer(handle)
        self.out.writerow(schema.FIELD_NAMES)
        self.rows = 0

    def write(self, record: Mapping[str, Any]) -> None:
        row = []
        for name in schema.FIELD_NAMES:
            value = record[name]
            if name in schema.LIST_FIELDS:
                value = json.dumps(value, ensure_ascii=False)
            elif name in schema.TIMESTAMPS:
                value = iso_utc(value)
            row.append(value)
        self.out.writerow(row)
        self.rows += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class JsonLinesArticleWriter:
    """Export records as JSON Lines: one object per article, lists as arrays, moments ISO 8601 UTC or null."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.rows = 0

    def write(self, record: Mapping[str, Any]) -> None:
        values = {
            name: (iso_utc(record[name]) or None) if name in schema.TIMESTAMPS else record[name]
            for name in schema.FIELD_NAMES
        }
        self.handle.write(json.dumps(values, ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


@contextmanager
def atomic_path(target: Path, mode: str = "wb") -> Iterator[tuple[Path, IO[Any]]]:
    """A temporary file beside ``target`` (and its open handle), renamed to ``target`` when the block
    ends without an exception; removed otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(name)
    try:
        os.chmod(temp, 0o666 & ~_umask())  # what a plain open() would have made, not mkstemp's 0600
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else ""
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield temp, handle
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_schema_json(folder: Path) -> Path:
    """``schema.json`` (the export schema and its version) in ``folder``; returns its path."""
    path = folder / SCHEMA_FILE
    with atomic_path(path, "w") as (_, handle):
        handle.write(json.dumps(schema.as_json(), ensure_ascii=False, indent=2) + "\n")
    return path


def write(
    rows: Iterable[Mapping[str, Any]],
    target: str | Path,
    fmt: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write export records to ``target`` in ``fmt`` (``parquet``, ``csv`` or ``jsonl``), atomically;
    beside a CSV or JSON Lines file, ``schema.json``. Returns the number of rows written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    target = Path(target)
    writer: Any
    with atomic_path(target, "wb" if fmt == "parquet" else "w") as (_, handle):
        if fmt == "parquet":
            writer = ParquetArticleWriter(handle)
        elif fmt == "csv":
            writer = CsvArticleWriter(handle)
        else:
            writer = JsonLinesArticleWriter(handle)
        try:
            for row in rows:
                writer.write(row)
                if progress is not None and writer.rows % 10_000 == 0:
                    progress(writer.rows)
        except BaseException:
            writer.abort()
            raise
        writer.close()
        count = writer.rows
    if fmt != "parquet":
        write_schema_json(target.parent)
    return count


def export(conn: Any, target: str | Path, fmt: str, filters: Filters | None = None) -> int:
    """Export the articles ``filters`` select from the store on ``conn`` to ``target``; the row count."""
    return write(records(conn, filters), target, fmt)


def guess_format(target: str | Path, given: str | None = None) -> str:
    """The export format: ``given``, else the target's suffix (``.parquet``, ``.csv``, ``.jsonl``)."""
    if given:
        return given
    suffix = Path(target).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise ValueError(f"cannot tell the format from {str(target)!r}: give --format ({', '.join(FORMATS)})")


__all__: Sequence[str] = (
    "FORMATS",
    "CsvArticleWriter",
    "Filters",
    "JsonLinesArticleWriter",
    "ParquetArticleWriter",
    "export",
    "guess_format",
    "parse_bound",
    "record_of",
    "records",
    "write",
)
