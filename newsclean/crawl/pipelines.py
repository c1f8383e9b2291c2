"""Item pipelines. Each does one thing, has a ``NEWSCLEAN_<NAME>_ENABLED`` switch, and counts
every item it drops under ``newsclean/dropped/<reason>`` in the crawl stats."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn, Self

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newsclean import config, stats, store
from newsclean.archive import raw_page_of
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

    Counts ``newsclean/new``, ``newsclean/updated`` (text changed; the old text kept as a revision)
    and ``newsclean/unchanged``.
    """

    switch = config.SQLITE_ENABLED

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.path = Path(config.DB.get(crawler.settings))
        self.opened: store.Store | None = None

    def open_spider(self, spider: Spider | None = None) -> None:
        self.opened = store.open_store(self.path)
        logger.info("storing articles in %s", self.path.resolve())

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.opened is not None:
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
        self.count(adapter, self.opened.save_article(adapter, raw_page_of(item)))
        return item


class PostgresPipeline(SQLitePipeline):
    """Stores each item as one row of ``articles`` in the PostgreSQL database ``NEWSCLEAN_DB``, one
    transaction per item, written by a thread of its own that the pipeline awaits: downloads and
    extraction go on while PostgreSQL commits."""

    def __init__(self, crawler: Crawler) -> None:
        _Pipeline.__init__(self, crawler)
        self.url = config.DB.get(crawler.settings)
        self.writer = ThreadWriter(self.url)

    async def open_spider(self, spider: Spider | None = None) -> None:  # type: ignore[override]
        await self.writer.open()
        logger.info("storing articles in %s", store.where(self.url))

    async def close_spider(self, spider: Spider | None = None) -> None:  # type: ignore[override]
        await self.writer.close()

    async def process_item(self, item: Any) -> Any:  # type: ignore[override]
        adapter = ItemAdapter(item)
        self.count(adapter, await self.writer.save_article(adapter))
        return item


class StorePipeline(_Pipeline):
    """The store's pipeline for ``NEWSCLEAN_DB``: :class:`SQLitePipeline` for a path,
    :class:`PostgresPipeline` for a ``postgresql://`` URL."""

    switch = config.SQLITE_ENABLED

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        kind = PostgresPipeline if store.is_postgres(config.DB.get(crawler.settings)) else SQLitePipeline
        return kind.from_crawler(crawler)
