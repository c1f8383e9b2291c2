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
# robots.txt as RFC 9309 says (newsclean/crawl/robots.py, in place of Scrapy's middleware); its groups
# are matched against the bare product token, not the whole User-Agent below.
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "newsclean"
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
# Nor Scrapy's remote-control HTTP server (on by default since Scrapy 2.19), which runs Python code
# sent to it inside the crawl process: a scheduled crawl opens no port that executes code.
REMOTE_CONTROL_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Items processed in parallel per response. An article page yields one item; Scrapy starts this many
# asyncio tasks for every response of an async callback, so its default of 100 cost more CPU per page
# than the pipelines themselves (measured: 202,100 task runs for 1,000 pages).
CONCURRENT_ITEMS = 4
# Size limits for news pages. An article page is well under 5 MB (the largest of the benchmark's
# pages: about 2 MB); Scrapy's default limit, 1 GB a response, let one compressed response that
# expands to 1 GB take the crawl to 6 GB of memory. DOWNLOAD_MAXSIZE applies to the body as sent and,
# in HttpCompressionMiddleware, again to the body as decompressed (checked 64 KB at a time, so a
# compression bomb stops at the limit); past it the page is dropped whole and counted as
# newsclean/errors/too_large. Feeds and sitemaps may hold 50 MB (the sitemaps protocol's limit):
# their requests raise the limit for themselves (newsclean/crawl/spider.py).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
# Only http and https are ever fetched: the handlers that read local files, data: URLs, FTP and S3
# are off, behind the checks of newsclean/crawl/safety.py (a feed may link to file:///etc/passwd).
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
FEED_EXPORT_ENCODING = "utf-8"
# `scrapy crawl <site> -O articles.parquet`: the export schema of newsclean/store/export_schema.py. Here, not in
# a spider's custom_settings, so that the command line knows the format before a spider loads.
FEED_EXPORTERS = {"parquet": "newsclean.crawl.exporters.ParquetItemExporter"}
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "newsclean.crawl.pipelines.ValidationPipeline": 100,
    "newsclean.crawl.pipelines.LanguagePipeline": 200,
    "newsclean.crawl.pipelines.DedupePipeline": 300,
    "newsclean.crawl.pipelines.StorePipeline": 800,
}
# Scheduled runs: only new or changed articles are fetched, feeds and sitemaps with conditional
# requests, one run at a time per spider and store, a record of each run.
SPIDER_MIDDLEWARES = {
    "newsclean.crawl.middlewares.IncrementalMiddleware": 900,
    # TDM reservations and AI opt-out signals written into each article (newsclean/crawl/robots.py).
    "newsclean.crawl.robots.SignalsMiddleware": 950,
}
# Safety last before the download (and first to see a redirect's response): only http(s), only the
# spider's domains. Retry-After before RetryMiddleware (550) sees the 429 or 503.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsclean.crawl.robots.RobotsMiddleware": 100,
    # Per-site minimum delay and blocks, seeing each response (retries included) before Retry-After.
    "newsclean.crawl.politeness.PolitenessMiddleware": 570,
    "newsclean.crawl.middlewares.ConditionalRequestsMiddleware": 580,
    "newsclean.crawl.politeness.RetryAfterMiddleware": 560,
    "newsclean.crawl.safety.SafetyMiddleware": 950,
    # With NEWSCLEAN_ARCHIVE: above decompression (590) and redirects (600), so each response is kept as it came.
    "newsclean.crawl.archive.ArchiveMiddleware": 880,
}
# A frontier shared by several processes, on Redis, when NEWSCLEAN_FRONTIER names one (see
# newsclean/crawl/frontier.py); without it this add-on changes nothing.
ADDONS = {"newsclean.crawl.frontier.Frontier": 0}
EXTENSIONS = {
    "newsclean.crawl.extensions.RunLock": 0,
    "newsclean.crawl.extensions.RunRecorder": 500,
    "newsclean.crawl.extensions.FreezeStartup": 900,
}
