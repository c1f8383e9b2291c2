"""The store: articles (one row per canonical URL), their earlier revisions, run records and the
validators of feeds and sitemaps, in SQLite (:mod:`newsclean.store.sqlite`). Plain functions on a
connection; nothing here imports Scrapy. :mod:`newsclean.store.health` judges the run records.
"""

from __future__ import annotations

from newsclean.store.sqlite import (
    ARTICLE_COLUMNS,
    RUN_KEYS,
    connect,
    fetched_time,
    finish_run,
    load_validators,
    runs,
    save_article,
    save_validators,
    start_run,
    to_row,
)

__all__ = [
    "ARTICLE_COLUMNS",
    "RUN_KEYS",
    "connect",
    "fetched_time",
    "finish_run",
    "load_validators",
    "runs",
    "save_article",
    "save_validators",
    "start_run",
    "to_row",
]
