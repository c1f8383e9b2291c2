"""A made-up news site of any size, served on loopback: a sitemap index, sitemaps of 500 URLs, and
small article pages whose texts all differ. For crawls of thousands of pages in tests and benchmarks.

Served as a mirror (``NEWSCLEAN_MIRROR``): ``GET /<host>/<path>``. Every request is logged with its
arrival time, so a test can count fetches per page and measure the pace a site was crawled at.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from newsclean.fixtures import serve_handler

HOST = "bulk.example"
PER_SITEMAP = 500
_WORDS = [
    "the",
    "council",
    "said",
    "on",
    "monday",
    "that",
    "the",
    "new",
    "budget",
    "would",
    "fund",
    "schools",
    "roads",
    "and",
    "hospitals",
    "across",
    "the",
    "region",
    "while",
    "critics",
    "argued",
    "the",
    "plan",
    "left",
    "rural",
    "towns",
    "behind",
    "and",
    "officials",
    "promised",
    "a",
    "review",
    "before",
    "the",
    "vote",
    "residents",
    "gathered",
    "outside",
    "the",
    "hall",
    "to",
    "hear",
    "the",
    "mayor",
    "explain",
    "why",
    "taxes",
    "must",
    "rise",
    "next",
    "year",
    "and",
    "how",
    "the",
    "money",
    "will",
    "be",
    "spent",
    "over",
    "the",
    "coming",
    "decade",
    "as",
    "prices",
    "climb",
    "and",
    "wages",
    "lag",
    "behind",
    "inflation",
]


def article_url(i: int, host: str = HOST) -> str:
    return f"https://{host}/news/{i}.html"


def article_html(i: int) -> bytes:
    """Article ``i``: a headline and one paragraph of 45 words, seeded by ``i``."""
    rng = random.Random(i)
    paragraphs = [" ".join(rng.choice(_WORDS) for _ in range(45)).capitalize() + "." for _ in range(1)]
    body = "".join(f"<p>{p} Story {i}, part {n}.</p>" for n, p in enumerate(paragraphs, 1))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Story {i}: budget vote</title>"
        f"<meta property='og:title' content='Story {i}: budget vote'></head><body>"
        f"<header><nav><a href='/'>Home</a></nav></header><main><article><h1>Story {i}: budget vote</h1>"
        f"{body}</article></main><footer>Bulk Example News</footer></body></html>"
    ).encode()


def sitemap_index(pages: int, host: str = HOST) -> bytes:
    count = (pages + PER_SITEMAP - 1) // PER_SITEMAP
    items = "".join(f"<sitemap><loc>https://{host}/sitemap-{n}.xml</loc></sitemap>" for n in range(count))
    return f"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{items}</sitemapindex>".encode()


def sitemap(n: int, pages: int, host: str = HOST) -> bytes:
    urls = range(n * PER_SITEMAP, min(pages, (n + 1) * PER_SITEMAP))
    items = "".join(f"<url><loc>{article_url(i, host)}</loc></url>" for i in urls)
    return f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{items}</urlset>".encode()


@dataclass
class BulkSite:
    """The running site: its mirror base URL, the sitemap index URL and the log of requests."""

    mirror: str
    pages: int
    requests: list[tuple[float, str]] = field(default_factory=list)

    @property
    def index(self) -> str:
        return f"https://{HOST}/sitemap-index.xml"

    def article_fetches(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, path in self.requests:
            if "/news/" in path:
                counts[path] = counts.get(path, 0) + 1
        return counts


@contextmanager
def serve_bulk(pages: int = 2000, delay: float = 0.0) -> Iterator[BulkSite]:
    """Serves a site of ``pages`` articles on loopback while the block runs."""
    lock = threading.Lock()
    site = BulkSite("", pages)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                site.requests.append((time.monotonic(), self.path))
            path = self.path.split("/", 2)[2] if self.path.count("/") >= 2 else ""
            body, kind = b"", "text/plain"
            if path == "sitemap-index.xml":
                body, kind = sitemap_index(pages), "application/xml"
            elif path.startswith("sitemap-") and path.endswith(".xml"):
                body, kind = sitemap(int(path[8:-4]), pages), "application/xml"
            elif path.startswith("news/") and path.endswith(".html") and int(path[5:-5]) < pages:
                body, kind = article_html(int(path[5:-5])), "text/html; charset=utf-8"
            if delay:
                time.sleep(delay)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve_handler(Handler) as url:
        site.mirror = url
        yield site
