"""Item pipelines. Each does one thing, has a ``NEWSCLEAN_<NAME>_ENABLED`` switch, and counts
every item it drops under ``newsclean/dropped/<reason>`` in the crawl stats."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, Self

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from twisted.internet import task

from newsclean import config, stats, store
from newsclean.archive import raw_page_of
from newsclean.minhash import fingerprint_of
from newsclean.store.postgres import ThreadWriter
from newsclean.urls import seen_key

logger = logging.getLogger(__name__)


class _Pipeline:
    """Shared set-up: the on/off switch and drop counting."""

    switch: config.Setting[bool]

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not cls.switch.get(crawler.settings):
            raise NotConfigured(f"{cls.switch.name} is off")
        return cls(crawler)

    def drop(self, reason: str, item: Any, detail: str = "") -> NoReturn:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.dropped(reason))
        url = ItemAdapter(item).get("url", "")
        raise DropItem(f"{reason}: {url}" + (f" ({detail})" if detail else ""))


class ValidationPipeline(_Pipeline):
    """Drops items with no text, too little text (``NEWSCLEAN_MIN_WORDS``) or no title, and paywall
    teasers: restricted articles cut by the paywall with under ``NEWSCLEAN_PAYWALL_MIN_WORDS`` words."""

    switch = config.VALIDATION_ENABLED

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        text = adapter.get("text") or ""
        words = adapter.get("word_count") or len(text.split())  # an Article counts its words once
        if not text.strip():
            self.drop("empty_text", item)
        teaser = config.PAYWALL_MIN_WORDS.get(self.settings)
        if adapter.get("truncated") and adapter.get("access") == "restricted" and words < teaser:
            self.drop(stats.PAYWALL_TEASER, item, f"{words} words before the paywall < {teaser}")
        minimum = config.MIN_WORDS.get(self.settings)
        if words < minimum:
            self.drop("too_short", item, f"{words} words < {minimum}")
        if config.REQUIRE_TITLE.get(self.settings) and not (adapter.get("title") or "").strip():
            self.drop("missing_title", item)
        return item


class LanguagePipeline(_Pipeline):
    """Keeps only items whose language is in ``NEWSCLEAN_LANGUAGES`` (all when it is empty)."""

    switch = config.LANGUAGE_ENABLED

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.allowed = {code.lower() for code in config.LANGUAGES.get(crawler.settings)}

    def process_item(self, item: Any) -> Any:
        language = ItemAdapter(item).get("language") or ""
        if self.allowed and language not in self.allowed:
            self.drop("language_not_allowed", item, language or "unknown")
        return item


class DedupePipeline(_Pipeline):
    """Drops a second item with the same canonical URL (tracking parameters removed) or the same text."""

    switch = config.DEDUPE_ENABLED

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.urls: set[bytes] = set()  # seen_key of each canonical URL let through in this run
        self.texts: set[bytes] = set()  # seen_key of each text

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url_key = seen_key(adapter.get("canonical_url") or adapter.get("url") or "")  # as extraction made it
        if url_key in self.urls:
            self.drop("duplicate_url", item)
        content_hash = adapter.get("content_hash") or ""
        text_key = seen_key(content_hash) if content_hash else b""
        if text_key and text_key in self.texts:
            self.drop("duplicate_content", item)
        self.urls.add(url_key)
        if text_key:
            self.texts.add(text_key)
        return item


class SQLitePipeline(_Pipeline):
    """Stores each item as one row of ``articles`` in the SQLite file ``NEWSCLEAN_DB``, one
    transaction per item.

    A spider whose ``commit_interval`` is above 0 (the ``warc`` spider: 1 second) gets its items
    committed together, at most that many seconds apart and when the spider closes, each in a
    savepoint of its own: the spider writes what must hold only once its items are committed (a
    backfill's progress) in the same transaction, from a hook it gives :meth:`batch_hook` (called
    with the connection before each commit). A live crawl, which a ``JOBDIR`` resume or the shared
    frontier cannot redo, keeps one transaction per item.

    Counts ``newsclean/new``, ``newsclean/updated`` (text changed; the old text kept as a revision)
    and ``newsclean/unchanged``.
    """

    switch = config.SQLITE_ENABLED

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.path = Path(config.DB.get(crawler.settings))
        self.opened: store.Store | None = None
        self.interval = 0.0  # seconds between commits; 0: each item in its own transaction
        self.hooks: list[Callable[[Any], None]] = []
        self._since = 0.0
        self._timer: task.LoopingCall | None = None

    def open_spider(self, spider: Spider | None = None) -> None:
        self.opened = store.open_store(self.path)
        logger.info("storing articles in %s", self.path.resolve())
        spider = spider or self.crawler.spider
        self.interval = float(getattr(spider, "commit_interval", 0) or 0)
        if self.interval > 0 and isinstance(self.opened, store.SQLiteStore):
            self._since = time.monotonic()
            self._timer = task.LoopingCall(self.commit)
            self._timer.start(self.interval, now=False)
            opened = getattr(spider, "store_batched", None)
            if opened is not None:
                opened(self)
        else:
            self.interval = 0.0

    def batch_hook(self, hook: Callable[[Any], None]) -> None:
        """Call ``hook(connection)`` before each commit of a batch, in its transaction."""
        self.hooks.append(hook)

    def commit(self) -> None:
        """Commit the batch of items saved since the last commit (with what the hooks write)."""
        if not isinstance(self.opened, store.SQLiteStore):
            return
        conn = self.opened.conn
        for hook in self.hooks:
            hook(conn)
        if conn.in_transaction:
            conn.commit()
        self._since = time.monotonic()

    def close_spider(self, spider: Spider | None = None) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self.opened is not None:
            if self.interval > 0:
                self.commit()
            self.opened.close()
            self.opened = None

    def count(self, adapter: ItemAdapter, outcome: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.STORED)
        self.crawler.stats.inc_value({"new": stats.NEW, "updated": stats.UPDATED}.get(outcome, stats.UNCHANGED))
        self.crawler.stats.inc_value(stats.WORDS, adapter.get("word_count") or 0)

    def process_item(self, item: Any) -> Any:
        assert self.opened is not None
        adapter = ItemAdapter(item)  # asdict() would check every value for nested items
        if self.interval <= 0:
            self.count(adapter, self.opened.save_article(adapter, raw_page_of(item), fingerprint_of(item)))
            return item
        assert isinstance(self.opened, store.SQLiteStore)
        outcome = self.opened.save_article(adapter, raw_page_of(item), fingerprint_of(item), commit=False)
        self.count(adapter, outcome)
        if time.monotonic() - self._since >= self.interval:
            self.commit()
        return item


class PostgresPipeline(SQLitePipeline):
    """Stores each item as one row of ``articles`` in the PostgreSQL database ``NEWSCLEAN_DB``, one
    transaction per item (with its ``raw_pages`` row), written by a thread of its own that the
    pipeline awaits: downloads and extraction go on while PostgreSQL commits. A spider with a
    ``store_writer`` method (the ``warc`` spider) is given the writer when it opens, to write its
    progress behind the articles it counts."""

    def __init__(self, crawler: Crawler) -> None:
        _Pipeline.__init__(self, crawler)
        self.url = config.DB.get(crawler.settings)
        self.writer = ThreadWriter(self.url)

    async def open_spider(self, spider: Spider | None = None) -> None:  # type: ignore[override]
        await self.writer.open()
        logger.info("storing articles in %s", store.where(self.url))
        opened = getattr(spider or self.crawler.spider, "store_writer", None)
        if opened is not None:  # a backfill writes its progress through the writer, behind its articles
            opened(self.writer)

    async def close_spider(self, spider: Spider | None = None) -> None:  # type: ignore[override]
        await self.writer.close()

    async def process_item(self, item: Any) -> Any:  # type: ignore[override]
        adapter = ItemAdapter(item)
        self.count(adapter, await self.writer.save_article(adapter, raw_page_of(item), fingerprint_of(item)))
        return item


class StorePipeline(_Pipeline):
    """The store's pipeline for ``NEWSCLEAN_DB``: :class:`SQLitePipeline` for a path,
    :class:`PostgresPipeline` for a ``postgresql://`` URL."""

    switch = config.SQLITE_ENABLED

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        kind = PostgresPipeline if store.is_postgres(config.DB.get(crawler.settings)) else SQLitePipeline
        return kind.from_crawler(crawler)
