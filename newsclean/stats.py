"""Every crawl stats key newsclean writes, as a named constant, and what a run's record reads of them.

Components count with ``crawler.stats.inc_value(stats.STORED)`` or a key built here
(``stats.dropped("too_short")``); :func:`run_values` reads them back for the ``runs`` table, the
demo's summary and the breakage alarm. A key is written and read through this module only, so a
typo is an ``AttributeError``, not a count that silently reads as 0. Nothing here imports Scrapy.
"""

from __future__ import annotations

import re
from typing import Any

PREFIX = "newsclean/"

# Articles stored, by what storing them did.
STORED = "newsclean/stored"
NEW = "newsclean/new"
UPDATED = "newsclean/updated"
UNCHANGED = "newsclean/unchanged"
WORDS = "newsclean/words"  # words in the stored articles' texts, summed

# Pages fetched, by kind.
PAGES_ARTICLE = "newsclean/pages/article"
PAGES_FEED = "newsclean/pages/feed"
PAGES_SITEMAP = "newsclean/pages/sitemap"
PAGES_LISTING = "newsclean/pages/listing"
PAGES_NOT_MODIFIED = "newsclean/pages/not_modified"

# Links found in feeds, sitemaps and listings, and what became of them.
LINKS_ARTICLE = "newsclean/links/article"
LINKS_NOT_ARTICLE = "newsclean/links/not_article"
LINKS_ALREADY_STORED = "newsclean/links/already_stored"
LINKS_CHANGED = "newsclean/links/changed"
LINKS_DUPLICATE = "newsclean/links/duplicate"

# A shared frontier: in-flight requests of a dead process put back in the queue, and those dropped
# because the dead process had already stored their article.
FRONTIER_REQUEUED = "newsclean/frontier/requeued"
FRONTIER_REQUEUED_STORED = "newsclean/frontier/requeued_already_stored"

# Politeness: a site's slot paused for the Retry-After of a 429 or 503.
RETRY_AFTER = "newsclean/politeness/retry_after"

# robots.txt (newsclean/crawl/robots.py): fetches that found it unreachable (5xx, 429, timeout,
# network error: the site gets no request until it is fetched again) or unavailable (4xx: all
# allowed); requests refused because it disallows them or because it was unreachable.
ROBOTS_UNREACHABLE = "newsclean/robots/unreachable"
ROBOTS_UNAVAILABLE = "newsclean/robots/unavailable"
ROBOTS_DISALLOWED = "newsclean/robots/disallowed"
ROBOTS_UNREACHABLE_REFUSED = "newsclean/robots/unreachable_refused"
ROBOTS_CRAWL_DELAY_CAPPED = "newsclean/robots/crawl_delay_capped"
# TDM reservations (W3C TDMRep): articles not stored because of one (NEWSCLEAN_TDM=honour), or
# stored with it recorded (record); articles stored with any AI or TDM signal.
TDM_RESERVED = "newsclean/tdm/reserved"
TDM_RECORDED = "newsclean/tdm/recorded"
SIGNALS_ARTICLES = "newsclean/signals/articles"
# A site paused for the rest of the run because it keeps blocking: by why (``challenge``,
# ``status_403``, ``status_429``), and the requests not sent to it since.
BLOCKED = "newsclean/blocked/"
BLOCKED_REFUSED = "newsclean/politeness/blocked_refused"

# Extraction: a site's body rule matched nothing and the generic path gave the text.
RULES_BODY_MISSED = "newsclean/rules/body_missed"

# JavaScript pages (sites declaring ``render``): pages rendered by the headless browser, the time it
# took them (milliseconds, summed), renderings that gave no page (timeout, browser error, too large),
# rendered pages over DOWNLOAD_MAXSIZE, the browser's own requests blocked (by kind: ``robots``,
# ``offsite``, ``unsafe_scheme``, ``resource``), and pages that needed rendering when no browser was there.
RENDER_PAGES = "newsclean/render/pages"
RENDER_MS = "newsclean/render/ms"
RENDER_FAILED = "newsclean/render/failed"
RENDER_TOO_LARGE = "newsclean/render/too_large"
RENDER_BLOCKED = "newsclean/render/blocked/"
RENDER_NEEDS = "newsclean/render/needs_render"

# Backfills from WARC files: records read, responses sent to extraction, files read to their end by
# an earlier run; records skipped by reason (``revisit``, ``not_html``, ``status_404``, ``filtered``).
WARC_RECORDS = "newsclean/warc/records"
WARC_RESPONSES = "newsclean/warc/responses"
WARC_FILES_ALREADY_DONE = "newsclean/warc/files/already_done"
WARC_SKIPPED = "newsclean/warc/skipped/"
# Responses written to the archive (NEWSCLEAN_ARCHIVE), and their bodies' bytes.
ARCHIVE_RECORDS = "newsclean/archive/records"
ARCHIVE_BYTES = "newsclean/archive/bytes"

# Paywalls: pages whose text was only a paywall prompt (skipped, no article) and restricted articles
# cut by the paywall before NEWSCLEAN_PAYWALL_MIN_WORDS words (dropped): teasers, not articles.
PAYWALL_PROMPT_ONLY = "paywall_prompt_only"
PAYWALL_TEASER = "paywall_teaser"
PAYWALL_REASONS = frozenset({PAYWALL_PROMPT_ONLY, PAYWALL_TEASER})

# Families keyed by a reason: items dropped by a pipeline, pages that held no article, failed requests.
DROPPED = "newsclean/dropped/"
SKIPPED = "newsclean/skipped/"
ERRORS = "newsclean/errors/"


def dropped(reason: str) -> str:
    """``newsclean/dropped/<reason>``: an item a pipeline dropped (``too_short``, ``duplicate_url``)."""
    return DROPPED + reason


def skipped(reason: str) -> str:
    """``newsclean/skipped/<reason>``: a page fetched that held no article; ``reason`` is shortened."""
    return SKIPPED + reason_key(reason)


def blocked(reason: str) -> str:
    """``newsclean/blocked/<reason>``: a site paused for the rest of the run (``challenge``, ``status_403``)."""
    return BLOCKED + reason


def warc_skipped(reason: str) -> str:
    """``newsclean/warc/skipped/<reason>``: a WARC record a backfill did not extract."""
    return WARC_SKIPPED + reason


def render_blocked(kind: str) -> str:
    """``newsclean/render/blocked/<kind>``: a request of the headless browser's that was not sent."""
    return RENDER_BLOCKED + kind


def error(kind: str) -> str:
    """``newsclean/errors/<kind>``: a request that failed (``http_404``, ``TimeoutError``, ``worker_crash``)."""
    return ERRORS + kind


def reason_key(reason: str) -> str:
    """A short key for a reason: ``no article text found`` -> ``no_article_text_found``."""
    return re.sub(r"[^a-z0-9]+", "_", re.split(r"[:(]", reason)[0].lower()).strip("_")


def under(values: dict[str, Any], prefix: str) -> dict[str, int]:
    """The counts of one family (``DROPPED``, ``SKIPPED``, ``ERRORS``), keyed by reason."""
    return {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}


def run_values(values: dict[str, Any], reason: str) -> dict[str, Any]:
    """The ``runs`` columns of a crawl, from its stats."""
    skipped_pages = under(values, SKIPPED)  # pages fetched that held no article
    drops = {**skipped_pages, **under(values, DROPPED)}
    articles = values.get(PAGES_ARTICLE, 0)
    stored = values.get(STORED, 0)
    return {
        "pages_fetched": values.get("downloader/response_count", 0),
        "new": values.get(NEW, 0),
        "updated": values.get(UPDATED, 0),
        "skipped": values.get(LINKS_ALREADY_STORED, 0),
        "dropped": drops,
        "errors": under(values, ERRORS),
        "article_pages": articles + sum(skipped_pages.values()),
        "articles": articles,
        "links": values.get(LINKS_ARTICLE, 0),
        "not_modified": values.get(PAGES_NOT_MODIFIED, 0),
        "avg_words": round(values.get(WORDS, 0) / stored, 1) if stored else 0.0,
        "rules_missed": values.get(RULES_BODY_MISSED, 0),
        "counts": {k.removeprefix(PREFIX): v for k, v in sorted(values.items()) if k.startswith(PREFIX)},
        "finish_reason": reason,
    }
