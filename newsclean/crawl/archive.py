"""WARC out: ``NEWSCLEAN_ARCHIVE=DIR`` keeps every response a crawl downloads (articles, feeds,
sitemaps, robots.txt) as a WARC request/response pair, so that a page can be shown as fetched and
extracted again later without fetching it (``newsclean reextract``).

:class:`ArchiveMiddleware` sits among the downloader middlewares above HTTP decompression and
redirects, so it keeps the response as it came (still compressed when the server compressed it) and
every hop of a redirect. It writes with :class:`newsclean.archive.ArchiveWriter` (gzip per record,
``WARC-Payload-Digest``, files rotated at ``NEWSCLEAN_ARCHIVE_MAX_SIZE``) and puts where the response
record is in the request's meta (``newsclean_raw_page``), where the spider finds it for the article's
row in ``raw_pages``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsclean import config, stats
from newsclean.archive import META_RAW_PAGE, META_WARC_RECORD, ArchiveWriter
from newsclean.version import extractor_version

logger = logging.getLogger(__name__)


def _pairs(headers: Any) -> list[tuple[str, str]]:
    return [(key.decode("latin-1"), value.decode("latin-1")) for key, values in headers.items() for value in values]


class ArchiveMiddleware:
    """Downloader middleware writing each downloaded response, with its request, to WARC files."""

    def __init__(self, crawler: Crawler, writer: ArchiveWriter) -> None:
        self.crawler = crawler
        self.writer = writer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder = config.ARCHIVE.get(crawler.settings)
        if not folder:
            raise NotConfigured("NEWSCLEAN_ARCHIVE is not set")
        writer = ArchiveWriter(
            folder,
            max_size=config.ARCHIVE_MAX_SIZE.get(crawler.settings),
            software=f"newsclean/{extractor_version()} (Scrapy)",
        )
        middleware = cls(crawler, writer)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        logger.info("archiving every response as WARC under %s", writer.folder.resolve())
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(META_WARC_RECORD) is not None:  # a backfilled page: it is in its WARC
            return response
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        page = self.writer.write(
            response.url,
            response.status,
            _pairs(response.headers),
            response.body,
            reason=reason,
            request_headers=_pairs(request.headers),
            method=request.method,
            ip=str(response.ip_address or ""),
        )
        request.meta[META_RAW_PAGE] = page
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(stats.ARCHIVE_RECORDS)
        self.crawler.stats.inc_value(stats.ARCHIVE_BYTES, len(response.body))
        return response

    def close(self) -> None:
        self.writer.close()
