"""Soak News: a loopback news site that lives through simulated days, for tests/test_soak.py.

Served as a mirror (``NEWSCLEAN_MIRROR``: ``GET /soak.example/<path>``). The test sets the simulated
moment (:attr:`SoakSite.now`) before each crawl; the site shows what it has published by then:

- every day, five articles published before the morning crawl (06:00 UTC) and five before the evening
  one (18:00 UTC); the Atom feed lists the 30 last published or updated, with ``<published>`` and
  ``<updated>`` (the page's JSON-LD ``datePublished`` and ``dateModified``);
- on some days some of the articles of the day before are edited (a new paragraph) between the two
  crawls, and one is only touched (saved again: its dates move, its text stays the same);
- ``drift`` days: the article body is in ``div.article-content`` instead of ``div.story-body``;
- ``down`` days: every request answers 503 with ``Retry-After`` as an HTTP date (robots.txt too in
  the morning, not in the evening);
- ``skewed`` days: the site's clock is :data:`SKEW` ahead: its ``Date`` headers, and the dates it
  stamps on what it publishes or edits that day;
- ``naive`` days: every date the site writes (feed and pages) is its local time (UTC+09:00) without
  a time zone.

Every request is logged (simulated moment, real monotonic time, path, status, what was served) so
the test counts fetches per page and day, and measures the pace at the server.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

from newsclean.fixtures import serve_handler

HOST = "soak.example"
START = datetime(2027, 3, 1, tzinfo=UTC)  # day 0, 00:00 UTC
CRAWL_HOURS = (6, 18)
PER_CRAWL = 5  # new articles before each crawl
FEED_SIZE = 30
SKEW = timedelta(hours=9)
LOCAL = timedelta(hours=9)  # the site's time zone, written without an offset on naive days
ROBOTS = b"User-agent: *\nDisallow: /private/\n"

_WORDS = [
    "council",
    "budget",
    "schools",
    "roads",
    "hospitals",
    "region",
    "critics",
    "plan",
    "rural",
    "towns",
    "officials",
    "review",
    "vote",
    "residents",
    "hall",
    "mayor",
    "taxes",
    "money",
    "decade",
    "prices",
    "wages",
    "inflation",
    "river",
    "bridge",
    "flood",
    "harvest",
    "farmers",
    "market",
    "port",
    "ships",
    "exports",
    "court",
    "ruling",
    "judge",
    "appeal",
    "police",
    "report",
    "station",
    "trains",
    "strike",
    "union",
    "talks",
    "minister",
    "parliament",
    "election",
    "campaign",
    "voters",
    "poll",
    "museum",
    "festival",
    "theatre",
    "library",
    "students",
    "teachers",
    "exam",
    "hospital",
    "nurses",
    "doctors",
    "clinic",
    "weather",
    "storm",
    "coast",
    "island",
    "fishing",
    "energy",
    "wind",
    "solar",
    "grid",
    "factory",
    "jobs",
]


def moment(day: int, hour: int, minute: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hour, minutes=minute)


def day_of(when: datetime) -> int:
    return (when - START).days


@dataclass
class Article:
    number: int
    published: datetime  # true moment (UTC)
    edits: list[datetime] = field(default_factory=list)  # true moments of real edits
    touches: list[datetime] = field(default_factory=list)  # feed date moved, page unchanged

    @property
    def path(self) -> str:
        return f"news/{self.number}/story-{self.number}"

    @property
    def url(self) -> str:
        return f"https://{HOST}/{self.path}"

    def version(self, now: datetime) -> int:
        return sum(1 for e in self.edits if e <= now)

    def updated(self, now: datetime) -> datetime:
        return max([self.published, *(e for e in [*self.edits, *self.touches] if e <= now)])

    def paragraphs(self, now: datetime) -> list[str]:
        rng = random.Random(self.number)
        paras = [
            " ".join(rng.choice(_WORDS) for _ in range(40)).capitalize() + f". Story {self.number}, part {n}."
            for n in range(1, 5)
        ]
        paras += [f"Update {v}: officials added new figures to story {self.number} in revision {v}." for v in
                  range(1, self.version(now) + 1)]  # fmt: skip
        return paras


@dataclass
class Fetch:
    sim: datetime
    real: float
    path: str
    status: int
    version: int = -1  # articles: the version served (-1: no body)
    announced: datetime | None = None  # articles: the moment the feed gave as updated


@dataclass
class SoakSite:
    days: int
    drift: set[int]
    down: set[int]
    skewed: set[int]
    naive: set[int]
    edit_days: set[int]
    touch_days: set[int]
    mirror: str = ""
    now: datetime = START
    slow: float = 0.0  # seconds each article response waits (to catch a crawl mid-run)
    articles: list[Article] = field(default_factory=list)
    log: list[Fetch] = field(default_factory=list)
    active: int = 0  # requests being answered now
    max_active: int = 0

    def __post_init__(self) -> None:
        number = 1000
        for day in range(self.days):
            for hour in CRAWL_HOURS:
                for k in range(PER_CRAWL):
                    number += 1
                    self.articles.append(Article(number, moment(day, hour - 5 + k, 7 * k)))
        for article in self.articles:
            day = day_of(article.published)
            # Edited the next day, between the two crawls: two of every ten, one of them twice on
            # different edit days; one other is only touched.
            for later in (day + 1, day + 2):
                if (
                    later in self.edit_days
                    and article.number % 10 in (3, 7)
                    and not (later == day + 2 and article.number % 10 == 7)
                ):
                    article.edits.append(moment(later, 10, article.number % 10))
                if later == day + 1 and later in self.touch_days and article.number % 10 == 5:
                    article.touches.append(moment(later, 11))

    # What the site writes -------------------------------------------------------------------------

    def clock(self, when: datetime) -> datetime:
        """The site's clock at the true moment ``when``."""
        return when + SKEW if day_of(when) in self.skewed else when

    def stamp(self, event: datetime) -> str:
        """How the site writes the moment of ``event`` (stamped by its clock then), as it writes today."""
        stamped = self.clock(event)
        if day_of(self.now) in self.naive:
            return (stamped + LOCAL).replace(tzinfo=None).isoformat(timespec="seconds")
        return stamped.isoformat(timespec="seconds").replace("+00:00", "Z")

    def visible(self) -> list[Article]:
        return [a for a in self.articles if a.published <= self.now]

    def feed(self) -> bytes:
        latest = sorted(self.visible(), key=lambda a: a.updated(self.now), reverse=True)[:FEED_SIZE]
        entries = "".join(
            f"<entry><title>Story {a.number}</title><link href='{a.url}'/><id>{a.url}</id>"
            f"<published>{self.stamp(a.published)}</published><updated>{self.stamp(a.updated(self.now))}</updated></entry>"
            for a in latest
        )
        updated = self.stamp(max(a.updated(self.now) for a in latest)) if latest else self.stamp(START)
        return (
            f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Soak News</title><id>https://{HOST}/</id><updated>{updated}</updated>{entries}</feed>"
        ).encode()

    def page(self, article: Article) -> bytes:
        body_class = "article-content" if day_of(self.now) in self.drift else "story-body"
        title = f"Story {article.number}: the council and the budget"
        paras = "".join(f"<p>{p}</p>" for p in article.paragraphs(self.now))
        modified = article.updated(self.now)
        ld = (
            '{"@context":"https://schema.org","@type":"NewsArticle",'
            f'"headline":"{title}","datePublished":"{self.stamp(article.published)}",'
            f'"dateModified":"{self.stamp(modified)}"}}'
        )
        others = range(article.number - 3, article.number)
        related = "".join(f"<li><a href='/news/{n}/story-{n}'>Story {n}</a></li>" for n in others)
        return (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title} | Soak News</title>"
            f"<script type='application/ld+json'>{ld}</script></head><body>"
            f"<header><nav><a href='/'>Home</a> <a href='/politics'>Politics</a></nav></header>"
            f"<main><h1>{title}</h1><div class='{body_class}'>{paras}</div>"
            f"<aside><h2>Related</h2><ul>{related}</ul></aside></main>"
            f"<footer>Soak News, all rights reserved</footer></body></html>"
        ).encode()

    # Serving ---------------------------------------------------------------------------------------

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, Fetch]:
        fetch = Fetch(self.now, time.monotonic(), path, 200)
        out = {"Date": format_datetime(self.clock(self.now), usegmt=True)}
        # Down: in the morning everything answers 503; in the evening robots.txt is served again (from
        # a cache in front of the site) while the rest still answers 503.
        if day_of(self.now) in self.down and (path != "robots.txt" or self.now.hour < 12):
            retry = format_datetime(self.clock(self.now) + timedelta(seconds=1), usegmt=True)
            fetch.status = 503
            return 503, {**out, "Retry-After": retry, "Content-Type": "text/plain"}, b"down for maintenance", fetch
        if path == "robots.txt":
            return 200, {**out, "Content-Type": "text/plain"}, ROBOTS, fetch
        if path == "feed.atom":
            body = self.feed()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if headers.get("If-None-Match") == etag:
                fetch.status = 304
                return 304, {**out, "ETag": etag}, b"", fetch
            return 200, {**out, "ETag": etag, "Content-Type": "application/atom+xml; charset=utf-8"}, body, fetch
        for article in self.visible():
            if article.path == path:
                fetch.version, fetch.announced = article.version(self.now), article.updated(self.now)
                if self.slow:
                    time.sleep(self.slow)
                return 200, {**out, "Content-Type": "text/html; charset=utf-8"}, self.page(article), fetch
        fetch.status = 404
        return 404, {**out, "Content-Type": "text/plain"}, b"not found", fetch


@contextmanager
def serve_soak(site: SoakSite) -> Iterator[SoakSite]:
    """Serves ``site`` on loopback while the block runs; sets its ``mirror``."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                site.active += 1
                site.max_active = max(site.max_active, site.active)
            try:
                prefix = f"/{HOST}/"
                path = self.path[len(prefix) :] if self.path.startswith(prefix) else self.path
                status, headers, body, fetch = site.answer(path, dict(self.headers))
                with lock:
                    site.log.append(fetch)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the crawl killed on purpose
                self.close_connection = True
            finally:
                with lock:
                    site.active -= 1

    with serve_handler(Handler) as url:
        site.mirror = url
        yield site
