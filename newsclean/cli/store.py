"""``newsclean demo``, ``runs`` and ``check-sites``: a crawl of the shipped fixtures, and what the
store says of past runs."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, TextIO

from newsclean import config, stats
from newsclean.cli.common import UsageError, scrapy_settings
from newsclean.fixtures import DEFAULT_ROOT

DEMO_DB = "data/demo.sqlite"
DEMO_ARCHIVE = "data/demo-archive"
STORE_DB = config.DB.default
DEMO_HELP = f"the store: an SQLite file or a postgresql:// URL (default {DEMO_DB})"
STORE_HELP = f"the crawl's store: an SQLite file or a postgresql:// URL (default {STORE_DB})"


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from scrapy.crawler import CrawlerProcess

    from newsclean.crawl.sites import SITE_SPIDERS
    from newsclean.fixtures import serve

    fixtures = Path(args.fixtures)
    if not fixtures.is_dir():
        raise UsageError(f"no fixtures folder at {fixtures}")
    from newsclean import store

    ours: list[Path] = []  # the run locks this demo will leave behind (PostgreSQL's are not files)
    if store.is_postgres(args.db):
        db = args.db
        writable_postgres(db)
    else:
        path = Path(args.db)
        writable_store(path)
        locks = [path.with_name(f"{path.name}.{name}.lock") for name in SITE_SPIDERS]
        ours = [lock for lock in locks if not lock.exists()]
        db = str(path.resolve())
    with serve(fixtures) as mirror:
        settings = scrapy_settings(
            {
                config.MIRROR.name: mirror,
                config.DB.name: db,
                config.ARCHIVE.name: str(args.archive),
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
                "LOG_LEVEL": "INFO" if args.verbose else "WARNING",
            }
        )
        out.write(
            f"serving {fixtures} at {mirror}; crawling {', '.join(SITE_SPIDERS)}; every response kept as WARC "
            f"in {Path(args.archive).resolve()}\n"
        )
        out.flush()
        process = CrawlerProcess(settings)
        crawlers = {}
        for name, spider in SITE_SPIDERS.items():
            crawlers[name] = process.create_crawler(spider)
            process.crawl(crawlers[name])
        try:
            process.start()
        finally:
            for lock in ours:  # every crawl of the demo has ended: its run locks are free
                lock.unlink(missing_ok=True)
    out.write(summary(db, {name: c.stats.get_stats() for name, c in crawlers.items() if c.stats}))
    return 1 if process.bootstrap_failed else 0


def summary(db: str, values: dict[str, dict[str, Any]]) -> str:
    """What a crawl did per site: new, updated and skipped articles, drops and errors by reason."""
    from newsclean import store

    with open_store(db) as opened:
        rows = opened.articles_by_site()
    lines = [f"articles stored in {store.where(db)} (table `articles`)"]
    for name, crawl_stats in values.items():
        run = stats.run_values(crawl_stats, crawl_stats.get("finish_reason", "?"))
        lines.append(
            f"  {name}: {run['new']} new, {run['updated']} updated, {run['skipped']} already stored "
            f"(not fetched again), {run['not_modified']} feeds or sitemaps unchanged (304); "
            f"{rows.get(name, 0)} in store; {run['article_pages']} article pages and "
            f"{run['pages_fetched']} pages in all fetched; dropped {json.dumps(run['dropped'], sort_keys=True)}; "
            f"errors {json.dumps(run['errors'], sort_keys=True)}; finished: {run['finish_reason']}"
        )
    return "\n".join(lines) + "\n"


def writable_store(db: Path) -> None:
    """:class:`UsageError` unless ``db`` is (or can be made) a newsclean store this process can write:
    checked before a crawl, so that a wrong ``--db`` is one line, not a traceback after the crawl."""
    from newsclean import store

    if db.is_dir():
        raise UsageError(f"{db} is a directory, not a SQLite file")
    existed = db.exists()
    try:
        store.connect(db).close()
    except (sqlite3.Error, OSError) as exc:
        if not existed:  # leave nothing behind
            for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
        what = "not a SQLite file" if "not a database" in str(exc) else str(exc)
        raise UsageError(f"cannot store into {db}: {what}") from None


def writable_postgres(url: str) -> None:
    """:class:`UsageError` unless the PostgreSQL database at ``url`` can be reached (and its tables
    made or brought forward): checked before a crawl, like :func:`writable_store`."""
    from newsclean import store

    try:
        store.open_store(url, must_exist=True).close()
    except store.StoreMissingError as exc:
        raise UsageError(str(exc)) from None


def open_store(path: str) -> Any:
    """The store at ``path`` (an SQLite file, opened read only, or a PostgreSQL URL); :class:`UsageError`
    when there is none, or it is not one."""
    from newsclean import store

    if store.is_postgres(path):
        try:
            return store.open_store(path, must_exist=True)
        except store.StoreMissingError as exc:
            raise UsageError(f"{exc} (give the crawl's NEWSCLEAN_DB with --db)") from None
    if not Path(path).is_file():
        raise UsageError(f"no store at {path} (give the crawl's NEWSCLEAN_DB with --db)")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        what = "not a SQLite file" if "not a database" in str(exc) else f"not a newsclean store ({exc})"
        raise UsageError(f"{path}: {what}") from None
    return store.SQLiteStore(path, conn=conn)


def cmd_runs(args: argparse.Namespace, out: TextIO) -> int:
    from newsclean import store

    with open_store(args.db) as opened:
        records = opened.runs(args.spider, args.limit)
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
    from newsclean.store import health

    broken = blocked = 0
    with open_store(args.db) as opened:
        for spider in opened.spiders():
            latest, reasons = health.check_latest(opened, spider)
            if latest is None:
                continue
            kept_out = health.obstacle(latest) is not None  # blocked, or robots.txt unreachable: not the layout
            blocked += kept_out
            broken += bool(reasons) and not kept_out
            out.write(f"{spider}: {'; '.join(reasons) if reasons else 'ok'} (run of {latest['start']})\n")
    if broken:
        print(f"newsclean: {broken} site(s) look broken", file=sys.stderr)
    if blocked:
        print(f"newsclean: {blocked} site(s) kept the crawl out (blocked, or robots.txt unreachable)", file=sys.stderr)
    return 1 if broken or blocked else 0


def add_commands(commands: Any) -> None:
    p = commands.add_parser("demo", help="crawl the shipped fixtures offline with the real spiders")
    p.add_argument("--db", default=DEMO_DB, help=DEMO_HELP)
    p.add_argument(
        "--archive", default=DEMO_ARCHIVE, help=f"folder for the WARC files of every response (default {DEMO_ARCHIVE})"
    )
    p.add_argument("--fixtures", default=str(DEFAULT_ROOT), help="folder of fixtures to serve")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log on stderr")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser("runs", help="recent crawl runs, newest first")
    p.add_argument("--db", default=STORE_DB, help=STORE_HELP)
    p.add_argument("--json", action="store_true", help="JSON: a list of runs, newest first")
    p.add_argument("--spider", help="only this spider's runs")
    p.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20)")
    p.set_defaults(run=cmd_runs)

    p = commands.add_parser("check-sites", help="exit 1 naming each site whose latest run looks broken, or was blocked")
    p.add_argument("--db", default=STORE_DB, help=STORE_HELP)
    p.set_defaults(run=cmd_check_sites)
