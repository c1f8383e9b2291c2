"""``newsclean export``, ``schema`` and ``report``: the store's data for analysis, and the site-health
page for the person who runs the crawls."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path
from typing import Any, TextIO

from newsclean import config
from newsclean.cli.common import UsageError

STORE_DB = config.DB.default


def open_store(path: str) -> Any:
    """The store at ``path``; :class:`UsageError` when there is none (exports never create one)."""
    from newsclean import store

    if not Path(path).is_file():
        raise UsageError(f"no store at {path} (give the crawl's NEWSCLEAN_DB with --db)")
    return store.connect(path)


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean.store import export

    try:
        fmt = export.guess_format(args.output, args.format)
        filters = export.Filters(
            sites=[s for v in args.site for s in v.split(",") if s],
            languages=[code.lower() for v in args.language for code in v.split(",") if code],
            since=export.parse_bound(args.since) if args.since else None,
            until=export.parse_bound(args.until, end=True) if args.until else None,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    target = Path(args.output)
    if target.is_dir():
        raise UsageError(f"{target} is a folder: give a file name")
    with closing(open_store(args.db)) as conn:
        rows = export.export(conn, target, fmt, filters)
    beside = f", schema in {target.parent / export.SCHEMA_FILE}" if fmt != "parquet" else ""
    out.write(f"{rows} articles written to {target} ({fmt}, schema {_version()}{beside})\n")
    return 0


def _version() -> str:
    from newsclean.store import export_schema as schema

    return schema.SCHEMA_VERSION


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from newsclean.store import export_schema as schema

    if args.json:
        out.write(json.dumps(schema.as_json(), ensure_ascii=False, indent=2) + "\n")
    elif args.markdown:
        out.write(schema.as_markdown())
    else:
        out.write(schema.as_text())
    return 0


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean.store import report
    from newsclean.store.export import atomic_path

    with closing(open_store(args.db)) as conn:
        html = report.build(conn)
    target = Path(args.output)
    with atomic_path(target, "w") as (_, handle):
        handle.write(html)
    out.write(f"site-health report written to {target}\n")
    return 0


def add_commands(commands: Any) -> None:
    from newsclean.store.export import FORMATS

    p = commands.add_parser("export", help="write the stored articles to a Parquet, CSV or JSON Lines file")
    p.add_argument("--db", default=STORE_DB, help=f"the crawl's SQLite store (default {STORE_DB})")
    p.add_argument("--format", choices=FORMATS, help="file format (default: from the output's suffix)")
    p.add_argument("--site", action="append", default=[], help="only this site (repeat, or comma-separated)")
    p.add_argument("--language", action="append", default=[], help="only this ISO 639-1 language (repeat, or commas)")
    p.add_argument("--since", help="only articles published on or after this date or time (UTC unless given)")
    p.add_argument("--until", help="only articles published on or before this date (the whole day) or time")
    p.add_argument("-o", "--output", required=True, help="file to write (written whole, or not at all)")
    p.set_defaults(run=cmd_export)

    p = commands.add_parser("schema", help="the export schema: field, type and meaning, with its version")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="as schema.json holds it")
    group.add_argument("--markdown", action="store_true", help="as the README's table")
    p.set_defaults(run=cmd_schema)

    p = commands.add_parser("report", help="write the site-health page (one self-contained HTML file)")
    p.add_argument("--db", default=STORE_DB, help=f"the crawl's SQLite store (default {STORE_DB})")
    p.add_argument("-o", "--output", default="report.html", help="HTML file to write (default report.html)")
    p.set_defaults(run=cmd_report)
