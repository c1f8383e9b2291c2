"""Scrapy settings for newsclean.

newsclean's own settings (``NEWSCLEAN_*``) are declared, with their defaults and meanings, in
:mod:`newsclean.config`; set one here, in ``custom_settings`` or with ``-s NAME=VALUE`` to change it.
"""

from __future__ import annotations

from pathlib import Path

BOT_NAME = "newsclean"
# The site spiders, made from the declarations in spiders/ (newsclean/crawl/sites.py), the generic
# spiders, and any spider class a user adds to spiders/.
SPIDER_MODULES = ["newsclean.crawl.sites", "newsclean.crawl.generic", "newsclean.crawl.warc", "spiders"]
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
# Who runs this crawler: set NEWSCLEAN_CONTACT (a URL or an e-mail address) and it is added to the
# User-Agent, so that a site's operators can reach you: `-s NEWSCLEAN_CONTACT=mailto:you@example.org`.
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
    "newsclean.crawl.pipelines.ValidationPipeline": 100,
    "newsclean.crawl.pipelines.LanguagePipeline": 200,
    "newsclean.crawl.pipelines.DedupePipeline": 300,
    "newsclean.crawl.pipelines.SQLitePipeline": 800,
}
# Scheduled runs: only new or changed articles are fetched, feeds and sitemaps with conditional
# requests, one run at a time per spider and store, a record of each run.
SPIDER_MIDDLEWARES = {"newsclean.crawl.middlewares.IncrementalMiddleware": 900}
DOWNLOADER_MIDDLEWARES = {
    "newsclean.crawl.middlewares.ConditionalRequestsMiddleware": 580,
    # With NEWSCLEAN_ARCHIVE: above decompression (590) and redirects (600), so each response is kept as it came.
    "newsclean.crawl.archive.ArchiveMiddleware": 880,
}
EXTENSIONS = {"newsclean.crawl.extensions.RunLock": 0, "newsclean.crawl.extensions.RunRecorder": 500}
