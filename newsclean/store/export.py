"""Exports of the store for analysis: Parquet, CSV and JSON Lines, in the versioned schema of
:mod:`newsclean.store.export_schema`. Plain functions on a DB-API connection; nothing here imports Scrapy.

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
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from newsclean.dates import parse_time
from newsclean.store import export_schema as schema

FORMATS = ("parquet", "csv", "jsonl")
# Rows read from the store at a time, and rows per Parquet row group (a row group is written as soon
# as it fills; about 30 MB of text for articles of average length).
BATCH_ROWS = 5_000
ROW_GROUP_ROWS = 10_000
ROW_GROUP_BYTES = 32 * 1024 * 1024
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
        if name in columns and name in schema.LIST_FIELDS:
            wanted.append(f"CASE WHEN a.{name} = '' THEN '[]' ELSE a.{name} END AS {name}")
        elif name in columns:
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
    return sql, params  # in the store's order (rowid) when no index is used


def _empty(name: str) -> str:
    kind = next(f.type for f in schema.FIELDS if f.name == name)
    return {"list<string>": "'[]'", "int64": "0", "float64": "0.0", "bool": "0"}.get(kind, "''")


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
            for name in schema.BOOL_FIELDS:
                record[name] = bool(record[name])
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


def arrow_batches(
    conn: Any, filters: Filters | None = None, batch: int = BATCH_ROWS, *, adbc: bool = True
) -> Iterator[Any]:
    """The selected articles as Arrow record batches in the export schema, built column by column:
    texts read from SQLite as UTF-8 bytes (no Python string made), the JSON lists parsed by Arrow's
    JSON reader, moments cast by Arrow (a value it cannot read: parsed in Python). An SQLite store is
    read through the ADBC driver (``adbc``), another through its DB-API connection."""
    filters = filters or Filters()
    sql, params = query(conn, filters)
    path = sqlite_file(conn) if adbc else None
    if path is not None:
        yield from _adbc_batches(path, sql, params, filters)
        return
    factory = getattr(conn, "text_factory", None)
    if factory is not None:
        conn.text_factory = bytes
    try:
        cursor = conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(batch):
            found = _to_batch(names, rows)
            if filters.since is not None or filters.until is not None:
                found = _between(found, filters)
            if found.num_rows:
                yield found
    finally:
        if factory is not None:
            conn.text_factory = factory


def sqlite_file(conn: Any) -> str | None:
    """The file of an SQLite store's connection; None for another kind of store or an in-memory one."""
    if not isinstance(conn, sqlite3.Connection):
        return None
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return row[2] or None
    return None


def _adbc_batches(path: str, sql: str, params: list[Any], filters: Filters) -> Iterator[Any]:
    """Record batches read by the ADBC SQLite driver, straight into Arrow (no Python object per
    value: 3 to 4 times faster than the sqlite3 module for a store's long texts), read-only."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(f"file:{quote(path)}?mode=ro") as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        cursor.execute(sql, params or None)
        for raw in cursor.fetch_record_batch():
            found = _from_arrow(raw)
            if filters.since is not None or filters.until is not None:
                found = _between(found, filters)
            if found.num_rows:
                yield found


def _from_arrow(raw: Any) -> Any:
    """A batch as the driver gives it (strings, JSON text, ISO 8601 text) in the export schema."""
    import pyarrow as pa

    arrow = schema.arrow_schema()
    lists = [n for n in raw.schema.names if n in schema.LIST_FIELDS]
    parsed = _json_lists(lists, [raw.column(n) for n in lists])
    arrays = []
    for name in arrow.names:
        kind = arrow.field(name).type
        if name in parsed:
            arrays.append(parsed[name])
        elif pa.types.is_timestamp(kind):
            arrays.append(_timestamps(raw.column(name)))
        else:
            arrays.append(raw.column(name).cast(kind))
    return pa.RecordBatch.from_arrays(arrays, schema=arrow)


def _to_batch(names: list[str], rows: list[tuple[Any, ...]]) -> Any:
    import pyarrow as pa

    arrow = schema.arrow_schema()
    columns = dict(zip(names, zip(*rows, strict=True), strict=True))
    lists = [n for n in names if n in schema.LIST_FIELDS]
    parsed = _json_lists(lists, [columns[n] for n in lists])
    arrays = []
    for name in arrow.names:
        kind = arrow.field(name).type
        values = columns[name]
        if name in parsed:
            arrays.append(parsed[name])
        elif pa.types.is_timestamp(kind):
            arrays.append(_timestamps(values))
        elif pa.types.is_string(kind):
            arrays.append(_strings(values))
        elif pa.types.is_boolean(kind):
            arrays.append(pa.array([bool(v) for v in values], type=kind))
        else:
            arrays.append(pa.array(values, type=kind))
    return pa.RecordBatch.from_arrays(arrays, schema=arrow)


def _strings(values: Sequence[Any]) -> Any:
    import pyarrow as pa

    if any(isinstance(v, bytes) for v in values):
        return pa.array(values, type=pa.binary()).cast(pa.string())  # checked to be UTF-8 on the way
    return pa.array(values, type=pa.string())


def _json_lists(names: list[str], columns: list[Sequence[Any]]) -> dict[str, Any]:
    """JSON arrays of strings, one column each, as Arrow ``list<string>`` arrays."""
    import io

    import pyarrow as pa
    import pyarrow.json as pa_json

    if not names:
        return {}
    if isinstance(columns[0], pa.Array):  # one JSON object per row, made and joined by Arrow
        import pyarrow.compute as pc

        parts: list[Any] = []
        for i, (name, column) in enumerate(zip(names, columns, strict=True)):
            parts += [("{" if i == 0 else ",") + f'"{name}":', column]
        rows = pc.binary_join_element_wise(*parts, "}", "")
        whole = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
        blob = pc.binary_join(whole, "\n")[0].as_buffer().to_pybytes()
    else:
        encoded = [[v if isinstance(v, bytes) else str(v).encode("utf-8") for v in column] for column in columns]
        template = b"{" + b",".join(b'"%b":%%b' % n.encode() for n in names) + b"}"
        blob = b"\n".join([template % row for row in zip(*encoded, strict=True)])
    target = pa.schema([(n, pa.list_(pa.string())) for n in names])
    table = pa_json.read_json(
        io.BytesIO(blob),
        read_options=pa_json.ReadOptions(use_threads=False, block_size=len(blob) + 1),
        parse_options=pa_json.ParseOptions(explicit_schema=target, unexpected_field_behavior="ignore"),
    )
    return {n: table.column(n).combine_chunks() for n in names}


def _timestamps(values: Sequence[Any]) -> Any:
    """ISO 8601 moments (dates alone, offsets or none) as UTC timestamps; empty ones null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = pa.timestamp("us", tz="UTC")
    if isinstance(values, pa.Array):
        text = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    else:
        text = _strings([v or None for v in values])
    try:
        day = pc.equal(pc.utf8_length(text), 10)
        text = pc.if_else(day, pc.binary_join_element_wise(text, "T00:00:00", ""), text)
        zoned = pc.match_substring_regex(text, r"(?:Z|[+-]\d\d:?\d\d)$")
        text = pc.if_else(zoned, text, pc.binary_join_element_wise(text, "+00:00", ""))
        return text.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if isinstance(values, pa.Array):
            values = values.to_pylist()
        moments = [utc(v.decode("utf-8") if isinstance(v, bytes) else v) for v in values]
        return pa.array([None if m is None else (m - _EPOCH) // _MICROSECOND for m in moments], pa.int64()).cast(kind)


def _between(batch: Any, filters: Filters) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    published = batch.column(batch.schema.get_field_index("published"))
    keep = pc.is_valid(published)
    kind = pa.timestamp("us", tz="UTC")
    if filters.since is not None:
        keep = pc.and_(keep, pc.greater_equal(published, pa.scalar(filters.since, kind)))
    if filters.until is not None:
        keep = pc.and_(keep, pc.less_equal(published, pa.scalar(filters.until, kind)))
    return batch.filter(pc.fill_null(keep, False))


def record_of(article: Mapping[str, Any]) -> dict[str, Any]:
    """An article as the crawl has it (the Article's fields) in the export schema's types."""
    record: dict[str, Any] = {name: article.get(name) for name in schema.FIELD_NAMES}
    for name in schema.LIST_FIELDS:
        record[name] = list(record[name] or [])
    for name in schema.BOOL_FIELDS:
        record[name] = bool(record[name])
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
        self.batches: list[Any] = []
        self.batch_rows = self.batch_bytes = 0

    def write(self, record: Mapping[str, Any]) -> None:
        for name in self.names:
            self.columns[name].append(record[name])
        self.pending += 1
        self.pending_bytes += len(record["text"] or "")
        if self.pending >= self.row_group_rows or self.pending_bytes >= self.row_group_bytes:
            self.flush()

    def write_batch(self, batch: Any) -> None:
        """Add an Arrow record batch in the export schema (from :func:`arrow_batches`)."""
        self.flush()  # records written one by one first, in order
        self.batches.append(batch)
        self.batch_rows += batch.num_rows
        self.batch_bytes += batch.nbytes
        if self.batch_rows >= self.row_group_rows or self.batch_bytes >= self.row_group_bytes:
            self._flush_batches()

    def _flush_batches(self) -> None:
        if not self.batch_rows:
            return
        import pyarrow as pa

        table = pa.Table.from_batches(self.batches, schema=self.schema)
        self.batches, rows = [], self.batch_rows
        self.batch_rows = self.batch_bytes = 0
        self.writer.write_table(table, row_group_size=rows)
        self.rows += rows

    def flush(self) -> None:
        """Write what has come since the last row group as a row group of its own."""
        self._flush_batches()
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
        self.batches, self.batch_rows = [], 0
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
    """Export the articles ``filters`` select from the store on ``conn`` to ``target``; the row count.

    Parquet is written from Arrow record batches (:func:`arrow_batches`), the other formats row by row."""
    if fmt == "parquet":
        return write_parquet(arrow_batches(conn, filters), target)
    return write(records(conn, filters), target, fmt)


def write_parquet(batches: Iterable[Any], target: str | Path) -> int:
    """Write Arrow record batches in the export schema to a Parquet file at ``target``, atomically."""
    with atomic_path(Path(target), "wb") as (_, handle):
        writer = ParquetArticleWriter(handle)
        try:
            for batch in batches:
                writer.write_batch(batch)
        except BaseException:
            writer.abort()
            raise
        writer.close()
    return writer.rows


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
