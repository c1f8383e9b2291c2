"""Scrapy settings for newsclean. Every newsclean setting starts with ``NEWSCLEAN_``."""

from __future__ import annotations

from pathlib import Path

from newsclean.workers import default_workers

BOT_NAME = "newsclean"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# `scrapy genspider -t newssite NAME DOMAIN` finds the site template here (templates/spiders/).
TEMPLATES_DIR = str(Path(__file__).resolve().parent / "templates")
# `scrapy genspider` with newsclean's checks (refuses a taken or invalid name with exit status 2).
COMMANDS_MODULE = "newsclean.commands"

# Politeness: robots.txt obeyed, AutoThrottle adapts the delay to the server, few requests per site.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 30
USER_AGENT = "newsclean/0.1 (news research crawler)"
# Who runs this crawler (a URL or an e-mail address): added to the User-Agent so that a site's
# operators can reach you. Set it: `-s NEWSCLEAN_CONTACT=mailto:you@example.org`.
NEWSCLEAN_CONTACT = ""
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Items processed in parallel per response. An article page yields one item; Scrapy starts this many
# asyncio tasks for every response of an async callback, so its default of 100 cost more CPU per page
# than the pipelines themselves (measured: 202,100 task runs for 1,000 pages).
CONCURRENT_ITEMS = 4
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "newsclean.pipelines.ValidationPipeline": 100,
    "newsclean.pipelines.LanguagePipeline": 200,
    "newsclean.pipelines.DedupePipeline": 300,
    "newsclean.pipelines.SQLitePipeline": 800,
}

# Validation: an item with less text, or without a title, is dropped.
NEWSCLEAN_VALIDATION_ENABLED = True
NEWSCLEAN_MIN_WORDS = 30
NEWSCLEAN_REQUIRE_TITLE = True
# Language filter: ISO 639-1 codes to keep; empty keeps every language.
NEWSCLEAN_LANGUAGE_ENABLED = True
NEWSCLEAN_LANGUAGES: list[str] = []
# De-duplication within a run: one item per canonical URL and per exact text.
NEWSCLEAN_DEDUPE_ENABLED = True
# Storage: an SQLite file, relative to the working directory unless absolute.
NEWSCLEAN_SQLITE_ENABLED = True
NEWSCLEAN_DB = "data/newsclean.sqlite"
# Scheduled runs: only new or changed articles are fetched (refresh: all of them again), feeds and
# sitemaps with conditional requests, one run at a time per spider and store, a record of each run.
NEWSCLEAN_REFRESH = False
NEWSCLEAN_CONDITIONAL_ENABLED = True
NEWSCLEAN_LOCK_ENABLED = True
NEWSCLEAN_RUNS_ENABLED = True
SPIDER_MIDDLEWARES = {"newsclean.middlewares.IncrementalMiddleware": 900}
DOWNLOADER_MIDDLEWARES = {"newsclean.middlewares.ConditionalRequestsMiddleware": 580}
EXTENSIONS = {"newsclean.extensions.RunLock": 0, "newsclean.extensions.RunRecorder": 500}
# Fetch every URL from a local mirror instead of the web (the demo and tests); empty: the web.
NEWSCLEAN_MIRROR = ""
# Extraction in worker processes: how many (0: inline, in the crawl's own process), how long one page
# may take before its worker is killed (seconds), and how many pages may be in the pool at once
# (0: four per worker). See newsclean/workers.py.
NEWSCLEAN_WORKERS = default_workers()
NEWSCLEAN_WORKER_TIMEOUT = 30.0
NEWSCLEAN_WORKER_QUEUE = 0
# Tests only: {"crash": URL regex, "hang": URL regex, "slow": URL regex} makes a worker crash, hang,
# or take a second longer, on those pages.
NEWSCLEAN_WORKER_FAULTS: dict[str, str] = {}
