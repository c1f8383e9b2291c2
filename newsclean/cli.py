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
from contextlib import closing
from pathlib import Path
from typing import Any, TextIO

from newsclean import settings as defaults
from newsclean.article import field_table
from newsclean.extraction import extract
from newsclean.fixtures import DEFAULT_ROOT

DEMO_DB = "data/demo.sqlite"
STORE_DB = defaults.NEWSCLEAN_DB


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
    return 1 if process.bootstrap_failed else 0


def summary(db: Path, stats: dict[str, dict[str, Any]]) -> str:
    """What a crawl did per site: new, updated and skipped articles, drops and errors by reason."""
    from newsclean.extensions import run_values

    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT site, COUNT(*) FROM articles GROUP BY site").fetchall())
    lines = [f"articles stored in {db.resolve()} (table `articles`)"]
    for name, values in stats.items():
        run = run_values(values, values.get("finish_reason", "?"))
        lines.append(
            f"  {name}: {run['new']} new, {run['updated']} updated, {run['skipped']} already stored "
            f"(not fetched again), {run['not_modified']} feeds or sitemaps unchanged (304); "
            f"{rows.get(name, 0)} in store; {run['article_pages']} article pages and "
            f"{run['pages_fetched']} pages in all fetched; dropped {json.dumps(run['dropped'], sort_keys=True)}; "
            f"errors {json.dumps(run['errors'], sort_keys=True)}; finished: {run['finish_reason']}"
        )
    return "\n".join(lines) + "\n"


def _open_store(path: str) -> sqlite3.Connection:
    from newsclean import store

    if not Path(path).is_file():
        raise UsageError(f"no store at {path} (give the crawl's NEWSCLEAN_DB with --db)")
    return store.connect(path)


def cmd_runs(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean import store

    with closing(_open_store(args.db)) as conn:
        records = store.runs(conn, args.spider, args.limit)
    if args.json:
        out.write(json.dumps([{k: r[k] for k in store.RUN_KEYS} for r in records], ensure_ascii=False, indent=1))
        out.write("\n")
        return 0
    header = ("spider", "start", "end", "pages", "new", "updated", "skipped", "dropped", "errors", "alarm")
    rows = [
        (
            r["spider"],
            r["start"],
            r["end"] or "(did not finish)",
            r["pages_fetched"],
            r["new"],
            r["updated"],
            r["skipped"],
            sum(r["dropped"].values()),
            sum(r["errors"].values()),
            r["alarm"],
        )
        for r in records
    ]
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        out.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0


def cmd_check_sites(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean import health

    broken = 0
    with closing(_open_store(args.db)) as conn:
        for (spider,) in conn.execute("SELECT DISTINCT spider FROM runs ORDER BY spider").fetchall():
            latest, reasons = health.check_latest(conn, spider)
            if latest is None:
                continue
            broken += bool(reasons)
            out.write(f"{spider}: {'; '.join(reasons) if reasons else 'ok'} (run of {latest['start']})\n")
    if broken:
        print(f"newsclean: {broken} site(s) look broken", file=sys.stderr)
    return 1 if broken else 0


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

    p = commands.add_parser("runs", help="recent crawl runs, newest first")
    p.add_argument("--db", default=STORE_DB, help=f"the crawl's SQLite store (default {STORE_DB})")
    p.add_argument("--json", action="store_true", help="JSON: a list of runs, newest first")
    p.add_argument("--spider", help="only this spider's runs")
    p.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20)")
    p.set_defaults(run=cmd_runs)

    p = commands.add_parser("check-sites", help="exit 1 naming each site whose latest run looks broken")
    p.add_argument("--db", default=STORE_DB, help=f"the crawl's SQLite store (default {STORE_DB})")
    p.set_defaults(run=cmd_check_sites)

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
