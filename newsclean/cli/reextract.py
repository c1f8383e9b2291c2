"""``newsclean reextract``: today's extraction over the archived raw pages of stored articles, no fetching.

In a store of either kind (SQLite or PostgreSQL), for every stored article whose raw page is known
(``raw_pages``: a WARC record written by a crawl with ``NEWSCLEAN_ARCHIVE`` on, or the record a
backfill read), the page is read back from its WARC file and extracted again in the worker pool. A
row whose text or fields come out different is updated, its previous version kept in ``revisions``,
and its ``extractor_version`` says which extraction produced it; ``fetched_at`` stays the time the
page was fetched. Pages that give no article now, or whose WARC record cannot be read, are counted
as failed and their rows left alone.

Nothing here imports Scrapy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from w3lib.encoding import http_content_type_encoding

from newsclean import config, store
from newsclean.archive import ArchiveError, read_page
from newsclean.article import Article
from newsclean.cli.common import UsageError
from newsclean.dates import now_iso
from newsclean.extraction.result import Extraction
from newsclean.store import clusters, dialect, rawpages
from newsclean.version import extractor_version

logger = logging.getLogger(__name__)

# Fields whose change is not a change of the extraction's output.
_NOT_COMPARED = {"fetched_at", "extractor_version"}


@dataclass
class Summary:
    pages: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        failed = f" ({', '.join(f'{k}: {v}' for k, v in self.reasons.most_common())})" if self.reasons else ""
        rate = self.pages / self.seconds if self.seconds else 0.0
        return (
            f"pages {self.pages}, changed {self.changed}, unchanged {self.unchanged}, failed {self.failed}{failed}"
            f"; {self.seconds:.1f} s, {rate:.1f} pages/s"
        )


def differences(old: dict[str, Any], new: Article) -> list[str]:
    """The columns whose stored value differs from ``new``'s."""
    row = store.to_row(vars(new))
    return [name for name, value in row.items() if name not in _NOT_COMPARED and name in old and old[name] != value]


def keep_store_fields(old: dict[str, Any], new: Article) -> None:
    """What the store, not extraction, gave the row: its wire-copy cluster, and an agency credited
    because the cluster holds that agency's own page. Re-extraction keeps them."""
    from newsclean.extraction import agencies

    new.cluster = old.get("cluster") or new.cluster
    for signal in json.loads(old.get("source_evidence") or "[]"):
        if signal.startswith("cluster:"):
            new.source, new.source_evidence = agencies.with_cluster_agency(
                new.source, new.source_evidence, signal.split(":", 1)[1]
            )


def replace_row(db: dialect.Connection, old: dict[str, Any], new: Article) -> None:
    """Update the row of ``old`` to ``new`` and keep ``old``'s text in ``revisions``, in one transaction
    (in a store of either kind)."""
    row = store.to_row(vars(new))
    columns = [c for c in row if c != "canonical_url"]
    with dialect.transaction(db):
        clusters.lock(db)  # first, as a save does: the row's cluster may be refreshed below
        dialect.execute(
            db,
            "INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (old["canonical_url"], old["content_hash"], old["title"], old["text"], old["modified"],
             old["fetched_at"], now_iso()),
        )  # fmt: skip
        dialect.execute(
            db,
            f"UPDATE articles SET {', '.join(f'{c} = ?' for c in columns)} WHERE canonical_url = ?",
            [*(row[c] for c in columns), row["canonical_url"]],
        )
        if any(old.get(c) != row[c] for c in ("url", "published", "fetched_at", "source")):
            clusters.refresh(db, row["cluster"])  # its cluster's original and credits follow the new row


class _Progress:
    """Logs pages done, rate and time left every ``every`` seconds."""

    def __init__(self, total: int, every: float) -> None:
        self.total, self.every = total, every
        self.start = self.last = time.monotonic()

    def tick(self, summary: Summary, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        rate = summary.pages / elapsed if elapsed else 0.0
        left = (self.total - summary.pages) / rate if rate else 0.0
        logger.info(
            "re-extraction: %d of %d pages (%.0f%%), %d changed, %d failed, %.1f pages/s, about %s left",
            summary.pages, self.total, 100 * summary.pages / self.total if self.total else 100, summary.changed,
            summary.failed, rate, _clock(left),
        )  # fmt: skip


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


Extract = Callable[..., Any]  # async (html, url, rules, *, encoding) -> Extraction


async def reextract(
    db: dialect.Connection,
    extract: Extract,
    *,
    site: str | None = None,
    since: str | None = None,
    window: int = 16,
    progress_every: float = 30.0,
) -> Summary:
    """Re-extract the stored articles of ``site`` fetched since ``since`` from their raw pages.

    ``db``: a store of either kind (or its connection). ``extract`` is the pool's (or an inline)
    ``async extract``; ``window`` pages are read ahead and in extraction at once.
    """
    todo = list(rawpages.archived(db, site, since))
    summary = Summary()
    progress = _Progress(len(todo), progress_every)
    version = extractor_version()
    started = time.monotonic()
    loop = asyncio.get_running_loop()

    async def one(item: rawpages.Archived) -> tuple[rawpages.Archived, Extraction | str]:
        try:
            record = await loop.run_in_executor(None, read_page, item.page)
        except ArchiveError as exc:
            logger.warning("cannot read the raw page of %s: %s", item.canonical_url, exc)
            return item, "unreadable_record"
        url = record.url or item.url
        charset = http_content_type_encoding(record.content_type)
        try:
            return item, await extract(record.body, url, None, encoding=charset)  # the rules of the URL's site
        except Exception as exc:  # a worker crash or timeout costs this page alone
            return item, getattr(exc, "kind", type(exc).__name__)

    def settle(item: rawpages.Archived, outcome: Extraction | str) -> None:
        summary.pages += 1
        if isinstance(outcome, str) or outcome.article is None:
            reason = outcome if isinstance(outcome, str) else outcome.reason.split(":")[0]
            summary.failed += 1
            summary.reasons[reason] += 1
            return
        old = dialect.execute(db, "SELECT * FROM articles WHERE canonical_url = ?", (item.canonical_url,)).fetchone()
        if old is None:  # deleted meanwhile
            summary.failed += 1
            summary.reasons["row_gone"] += 1
            return
        old = dict(old)
        new = outcome.article
        new.canonical_url = item.canonical_url  # the row's key stays, whatever the page says now
        new.fetched_at = old["fetched_at"]  # the page is the one fetched then
        new.extractor_version = version
        keep_store_fields(old, new)
        if differences(old, new):
            replace_row(db, old, new)
            summary.changed += 1
        else:
            summary.unchanged += 1

    pending: set[asyncio.Task[Any]] = set()
    for item in todo:
        pending.add(asyncio.ensure_future(one(item)))
        if len(pending) >= window:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                settle(*task.result())
            progress.tick(summary)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            settle(*task.result())
        progress.tick(summary)
    summary.seconds = time.monotonic() - started
    progress.tick(summary, force=bool(todo))
    return summary


def run(
    db: str,
    *,
    site: str | None = None,
    since: str | None = None,
    workers: int | None = None,
    progress_every: float = 30.0,
) -> Summary:
    """Re-extract the articles of the store ``db`` (an SQLite path or a PostgreSQL URL) with a pool of
    ``workers`` processes (the number of cores; 0: in this process)."""
    from newsclean.crawl.extractor import Extractor
    from newsclean.crawl.pool import ExtractionPool

    size = config.WORKERS.default if workers is None else workers
    pool = ExtractionPool(size) if size > 0 else None
    extractor = Extractor(pool)
    opened = store.open_store(db, must_exist=True)
    try:
        return asyncio.run(
            reextract(opened, extractor.extract, site=site, since=since, window=4 * max(size, 1) + 4,
                      progress_every=progress_every)
        )  # fmt: skip
    finally:
        extractor.close()
        opened.close()


def parse_since(value: str | None) -> str | None:
    """``--since``: an ISO date or time, kept as text (``fetched_at`` compares as ISO text)."""
    if not value:
        return None
    from newsclean.dates import iso_date

    return iso_date(value) or value


__all__: Sequence[str] = ("Summary", "reextract", "run")


def add_commands(commands: Any) -> None:
    """``newsclean reextract [--db STORE] [--site S] [--since DATE] [--workers N]``."""
    p = commands.add_parser(
        "reextract", help="extract stored articles again from their archived raw pages; update what changed"
    )
    p.add_argument(
        "--db", default=config.DB.default,
        help=f"the store: an SQLite file or a postgresql:// URL (default {config.DB.default})",
    )  # fmt: skip
    p.add_argument("--site", help="only this site's articles")
    p.add_argument("--since", help="only articles fetched on or after this date (ISO 8601)")
    p.add_argument("--workers", type=int, help="extraction worker processes (default: the number of cores; 0: inline)")
    p.add_argument("--progress", type=float, default=30.0, help="seconds between progress lines on stderr (default 30)")
    p.set_defaults(run=cmd_reextract)


def cmd_reextract(args: Any, out: Any) -> int:
    try:
        store.open_store(args.db, must_exist=True).close()
    except store.StoreMissingError as exc:
        raise UsageError(f"{exc} (give the crawl's NEWSCLEAN_DB with --db)") from None
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    summary = run(
        args.db, site=args.site, since=parse_since(args.since), workers=args.workers, progress_every=args.progress
    )
    out.write(f"re-extracted with {extractor_version()}: {summary.line()}\n")
    return 0
