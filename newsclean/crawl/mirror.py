"""Serving every request from a local mirror of the web: the demo and the tests run offline.

With ``NEWSCLEAN_MIRROR = "http://127.0.0.1:8765"``, a request for ``https://host/path?q`` is
downloaded from ``http://127.0.0.1:8765/host/path?q``; the response keeps the original URL, so
spiders, middlewares, pipelines and stored items all see the live site's URLs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from newsclean import config
from newsclean.urls import mirrored_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class MirrorDownloadHandler(HTTP11DownloadHandler):
    """HTTP(S) download handler that fetches from ``NEWSCLEAN_MIRROR`` instead of the live host."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.mirror: str = config.MIRROR.get(crawler.settings)

    async def download_request(self, request: Request) -> Response:
        if not self.mirror:
            return await super().download_request(request)
        mirrored = request.replace(url=mirrored_url(request.url, self.mirror))  # a copy of the meta
        response = await super().download_request(mirrored)
        # What the download wrote in the copy's meta goes back to the request: AutoThrottle reads
        # ``download_latency`` there, and without it kept every delay at AUTOTHROTTLE_START_DELAY (5 s).
        for key, value in mirrored.meta.items():
            request.meta.setdefault(key, value)
        return response.replace(url=request.url)
