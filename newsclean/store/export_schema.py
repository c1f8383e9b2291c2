"""The export schema: what ``newsclean export`` and the Parquet feed exporter write, field by field.

Versioned: ``SCHEMA_VERSION`` goes into every Parquet file's key-value metadata (``newsclean:schema``)
and into the ``schema.json`` written beside a CSV or JSON Lines export. Within a major version, fields
are only ever added (at the end), never renamed, retyped or removed: a reader written for 1.0 reads
every 1.x file. Nothing here imports Scrapy; pyarrow only when an Arrow schema is asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from newsclean.article import Article

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_NAME = "newsclean-articles"
SCHEMA_VERSION = "1.1.0"  # 1.1: access, truncated, signals
# Parquet key-value metadata keys.
META_NAME = b"newsclean:schema"
META_VERSION = b"newsclean:schema_version"
META_FIELDS = b"newsclean:fields"

# Fields whose value is a moment: exported as UTC timestamps (microseconds). A date without a time
# is midnight UTC of that day; the page's own wording stays in `published_raw` / `modified_raw`.
TIMESTAMPS = ("published", "modified", "fetched_at")
_TIMESTAMP_DOC = {
    "published": "Publication time, UTC (a page that gives only a date: midnight UTC of that date); null if none.",
    "modified": "Last modification time, UTC; null when the page gives none.",
    "fetched_at": "When the page was fetched, UTC.",
}
# Fields the store adds to an article's own: what its cluster says.
EXTRA_FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "cluster_original",
        "string",
        "`canonical_url` of the cluster's original: its member published first (fetched first when "
        "no date is known). Equal to `canonical_url` for the original itself and for an article alone.",
    ),
    ("cluster_size", "int64", "Number of stored articles in the cluster (1: no copy known)."),
)
_TYPES = {"str": "string", "list[str]": "list<string>", "int": "int64", "float": "float64", "bool": "bool"}


@dataclass(frozen=True)
class Field:
    """One exported field: its name, its type (Arrow's name for it) and what it means."""

    name: str
    type: str
    meaning: str


def export_fields() -> tuple[Field, ...]:
    """Every exported field, in file order."""
    found = []
    for f in fields(Article):
        if f.name in TIMESTAMPS:
            found.append(Field(f.name, "timestamp[us, UTC]", _TIMESTAMP_DOC[f.name]))
        else:
            found.append(Field(f.name, _TYPES[str(f.type)], f.metadata["doc"]))
    found.extend(Field(*extra) for extra in EXTRA_FIELDS)
    return tuple(found)


FIELDS = export_fields()
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
LIST_FIELDS = frozenset(f.name for f in FIELDS if f.type == "list<string>")
BOOL_FIELDS = frozenset(f.name for f in FIELDS if f.type == "bool")  # stores keep them as 0 and 1


def as_json() -> dict[str, Any]:
    """The schema as ``schema.json`` holds it."""
    return {
        "name": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "fields": [{"name": f.name, "type": f.type, "meaning": f.meaning} for f in FIELDS],
    }


def as_text() -> str:
    """The schema as ``newsclean schema`` prints it: a header, then field, type and meaning per line."""
    width = max(len(f.name) for f in FIELDS)
    type_width = max(len(f.type) for f in FIELDS)
    lines = [f"{SCHEMA_NAME} {SCHEMA_VERSION}"]
    lines += [f"{f.name:<{width}}  {f.type:<{type_width}}  {f.meaning}" for f in FIELDS]
    return "\n".join(lines) + "\n"


def as_markdown() -> str:
    """The schema as the README's table."""
    rows = ["| field | type | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | `{f.type}` | {f.meaning} |" for f in FIELDS]
    return "\n".join(rows) + "\n"


def arrow_schema() -> pa.Schema:
    """The Arrow schema of a Parquet export, the version in its metadata."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "list<string>": pa.list_(pa.string()),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    }
    nullable = set(TIMESTAMPS)
    return pa.schema(
        [pa.field(f.name, types[f.type], nullable=f.name in nullable) for f in FIELDS],
        metadata={
            META_NAME: SCHEMA_NAME.encode(),
            META_VERSION: SCHEMA_VERSION.encode(),
            META_FIELDS: json.dumps(as_json()["fields"], ensure_ascii=False).encode(),
        },
    )
