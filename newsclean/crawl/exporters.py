"""Scrapy feed exporters: ``scrapy crawl <site> -O articles.parquet`` writes the articles of the crawl
in the export schema of :mod:`newsclean.store.export_schema` (registered as ``parquet`` in ``FEED_EXPORTERS``
of the project settings, so the command line knows the format before any spider loads).

Feed exports run after the pipelines: an article's ``cluster`` is the one the store gave it, and its
cluster's original and size are read from the store as they are when the article is written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import IO, Any, Self

import psycopg
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exporters import BaseItemExporter

from newsclean import config
from newsclean.store import dialect, export
from newsclean.store.postgres import PostgresStore, is_postgres


class ParquetItemExporter(BaseItemExporter):
    """Articles to Parquet, zstd, a row group each time ``ROW_GROUP_ROWS`` articles have come."""

    def __init__(self, file: IO[bytes], *, store: str | None = None, **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.store = store
        self.conn: Any = None  # sqlite3 or psycopg
        self.writer: export.ParquetArticleWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], *args: Any, **kwargs: Any) -> Self:
        settings = crawler.settings
        store = None
        if settings.getbool(config.SQLITE_ENABLED.name, config.SQLITE_ENABLED.default):
            store = str(settings.get(config.DB.name, config.DB.default))
        return cls(file, *args, store=store, **kwargs)

    def start_exporting(self) -> None:
        self.writer = export.ParquetArticleWriter(self.file)

    def _cluster(self, cluster: str) -> tuple[str, int] | None:
        if not cluster or not self.store:
            return None
        if self.conn is None:
            if is_postgres(self.store):
                self.conn = PostgresStore(self.store, migrate_schema=False).conn
            elif Path(self.store).is_file():
                self.conn = sqlite3.connect(f"file:{Path(self.store).resolve()}?mode=ro", uri=True, timeout=30)
            else:
                return None
        try:
            row = dialect.execute(self.conn, "SELECT original, size FROM clusters WHERE id = ?", (cluster,)).fetchone()
        except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):  # a store without clusters
            return None
        return (row[0], int(row[1])) if row is not None else None

    def export_item(self, item: Any) -> None:
        assert self.writer is not None
        article = dict(ItemAdapter(item).items())
        found = self._cluster(article.get("cluster") or "")
        if found is not None:
            article["cluster_original"], article["cluster_size"] = found
        self.writer.write(export.record_of(article))

    def finish_exporting(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
