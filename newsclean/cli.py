"""The ``newsclean`` command: ``extract`` saved pages, run the offline ``demo``, print ``fields``;
adding a site: ``new-site``, ``fixture save``, ``fixture rerun``, ``try`` (in :mod:`newsclean.sitetools`)."""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from newsclean.extraction import extract
from newsclean.fixtures import DEFAULT_ROOT
from newsclean.items import field_table

DEMO_DB = "data/demo.sqlite"


class UsageError(Exception):
    """Bad input from the user: printed as ``newsclean: <message>``, exit status 2."""


def read_input(path: str) -> bytes:
    """The bytes of a saved page: a file (``.gz`` decompressed), or ``-`` for standard input."""
    if path == "-":
        return sys.stdin.buffer.read()
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UsageError(f"{path}: not a readable gzip file ({exc})") from exc
    return data


def cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    missing = [p for p in args.paths if p != "-" and not Path(p).is_file()]
    if missing:  # checked before any output, so a bad call prints nothing half-done
        raise UsageError(f"no such file: {', '.join(missing)}")
    for path in args.paths:
        result = extract(read_input(path), args.url)
        if result.article is None:
            record: dict[str, Any] = {"input": path, "url": args.url, "text": None, "reason": result.reason}
        else:
            record = {"input": path, **dataclasses.asdict(result.article)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _settings(overrides: dict[str, Any]) -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsclean.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.update(overrides, priority="cmdline")
    return settings


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from scrapy.crawler import CrawlerProcess

    from newsclean.fixtures import serve
    from newsclean.registry import site_spiders

    fixtures = Path(args.fixtures)
    if not fixtures.is_dir():
        raise UsageError(f"no fixtures folder at {fixtures}")
    db = Path(args.db)
    with serve(fixtures) as mirror:
        settings = _settings(
            {
                "NEWSCLEAN_MIRROR": mirror,
                "NEWSCLEAN_DB": str(db),
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
                "LOG_LEVEL": "INFO" if args.verbose else "WARNING",
            }
        )
        out.write(f"serving {fixtures} at {mirror}; crawling {', '.join(site_spiders())}\n")
        out.flush()
        process = CrawlerProcess(settings)
        crawlers = {}
        for name, spider in site_spiders().items():
            crawlers[name] = process.create_crawler(spider)
            process.crawl(crawlers[name])
        process.start()
    out.write(summary(db, {name: c.stats.get_stats() for name, c in crawlers.items() if c.stats}))
    return 0


def _group(stats: dict[str, Any], prefix: str) -> str:
    """The stats under ``prefix`` as compact JSON, prefix removed: ``{"http_404": 1}``."""
    return json.dumps({k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}, sort_keys=True)


def summary(db: Path, stats: dict[str, dict[str, Any]]) -> str:
    """What a crawl stored and what it dropped, per site."""
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT site, COUNT(*) FROM articles GROUP BY site").fetchall())
    lines = [f"articles stored in {db.resolve()} (table `articles`)"]
    for name, values in stats.items():
        lines.append(
            f"  {name}: {values.get('newsclean/stored', 0)} stored this run, {rows.get(name, 0)} in store; "
            f"dropped {_group(values, 'newsclean/dropped/')}; skipped {_group(values, 'newsclean/skipped/')}; "
            f"errors {_group(values, 'newsclean/errors/')}; finished: {values.get('finish_reason', '?')}"
        )
    return "\n".join(lines) + "\n"


def cmd_fields(args: argparse.Namespace, out: TextIO) -> int:
    out.write(field_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsclean", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("extract", help="extract articles from saved .html / .html.gz files, one JSON per line")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file, or - for standard input")
    p.add_argument("--url", help="the page's URL: picks the site's rules and resolves links")
    p.set_defaults(run=cmd_extract)

    p = commands.add_parser("demo", help="crawl the shipped fixtures offline with the real spiders")
    p.add_argument("--db", default=DEMO_DB, help=f"SQLite file to store into (default {DEMO_DB})")
    p.add_argument("--fixtures", default=str(DEFAULT_ROOT), help="folder of fixtures to serve")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log on stderr")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser("fields", help="print the Markdown table of Article fields")
    p.set_defaults(run=cmd_fields)

    from newsclean import sitetools  # here, not at the top: sitetools imports this module

    sitetools.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``newsclean`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, out or sys.stdout) or 0)
    except UsageError as exc:
        print(f"newsclean: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
