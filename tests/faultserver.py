"""A misbehaving web on loopback, for the end-to-end fault test and ``benchmarks/faults.py``.

Two servers: the site (``127.0.0.1``), whose feed ``/feed.xml`` links to one misbehaving URL per
case, and another host (``127.0.0.2``) that no request may ever reach (offsite redirects, refreshes
and links point there). Both record every request they get. A ``file:`` link points at a named pipe
(:class:`Canary`): anything that opens it to read is caught, so "no file read" is proven, not assumed.

Each :class:`Case` says what a correct crawl does with it: store the article (``"stored"``), or
store nothing and count it under ``newsclean/errors/<kind>`` or ``newsclean/skipped/<reason>``. The
cases follow the ways real sites misbehave and what Scrapy's own test server covers: delays, dropped
connections, partial bodies, compression bombs, wrong or missing content types, redirects of every
status (loops, to other hosts, to ``file:``/``data:``/``ftp:``), meta refreshes, binary bodies, very
large and very deep pages, soft 404s, section fronts, 429/503 with ``Retry-After``, URLs over
Scrapy's length limit, and non-http links in the feed.
"""

from __future__ import annotations

import gzip
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

OTHER_HOST = "127.0.0.2"  # loopback too (all of 127/8 is), but another host for the spider
TIMEOUT = 2  # the crawl's DOWNLOAD_TIMEOUT in the fault run (seconds)
MAXSIZE = 10 * 1024 * 1024  # newsclean's DOWNLOAD_MAXSIZE

_SENTENCES = [
    "The council met on Tuesday evening to discuss the repairs to the old river bridge.",
    "Residents had complained for months about the noise from the construction site near the school.",
    "A spokesperson for the regional government said the budget would be published next week.",
    "Farmers in the valley reported that the early frost had damaged much of the apple harvest.",
    "The museum will reopen in the spring after two years of renovation work on its roof.",
    "Local businesses said the new parking rules had cut the number of visitors to the market.",
    "Police asked drivers to avoid the northern road while the crews cleared the fallen trees.",
    "The hospital expects the new wing to take its first patients before the end of the year.",
    "Teachers welcomed the decision but warned that more staff would be needed to run the classes.",
    "The mayor told reporters that the city had received more applications than ever before.",
    "Engineers found that the water pipes under the main square were older than the records showed.",
    "Volunteers spent the weekend planting trees along the path between the station and the park.",
    "The train company apologised for the delays and promised to refund the affected passengers.",
    "Scientists at the university said the measurements confirmed a slow rise in the lake's level.",
    "The festival drew thousands of visitors despite the heavy rain on the opening night.",
    "Officials said the figures would be reviewed again once the winter season was over.",
]


def paragraphs(case: str, count: int = 6) -> list[str]:
    """``count`` paragraphs of plain news English, different for every case (no two texts alike)."""
    rng = random.Random(case)
    found = []
    for i in range(count):
        sentences = rng.sample(_SENTENCES, 3)
        found.append(
            f"In the report filed as {case} part {i + 1}, "
            + sentences[0][0].lower()
            + sentences[0][1:]
            + " "
            + " ".join(sentences[1:])
        )
    return found


def article_html(
    case: str,
    title: str | None = None,
    count: int = 6,
    head: str = "",
    wrap: int = 0,
    charset: str = "utf-8",
    extra: str = "",
) -> str:
    """A news article page: navigation, headline, byline, date, paragraphs, footer. ``wrap``: the
    article nested in that many ``<div>``; ``extra``: markup after the article (huge scripts...)."""
    title = title or f"Town news: the {case.replace('_', ' ')} story"
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs(case, count))
    article = (
        f"<article><h1>{escape(title)}</h1><p class='byline'>By Jane Reporter</p>"
        f"<time datetime='2026-11-30T10:00:00+00:00'>30 November 2026</time>\n{body}</article>"
    )
    article = "<div>" * wrap + article + "</div>" * wrap
    return (
        f"<!doctype html><html lang='en'><head><meta charset='{charset}'>"
        f"<title>{escape(title)} | Loopback Gazette</title>"
        f"<meta property='og:title' content='{escape(title)}'>{head}</head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav></header>"
        f"<main>{article}</main>{extra}<footer><p>Copyright Loopback Gazette</p></footer></body></html>"
    )


def section_front_html() -> str:
    """A section front: navigation and headline lists only, about 600 words, no article."""
    rng = random.Random("front")
    blocks = []
    for section in ("World", "Business", "Sport", "Culture", "Science", "Travel"):
        headlines = [" ".join(rng.choice(_SENTENCES).split()[:12]) for _ in range(8)]
        items = "".join(
            f"<li class='card'><a href='/{section.lower()}/story-{i}'>{escape(h)}</a></li>"
            for i, h in enumerate(headlines)
        )
        blocks.append(f"<section><h2><a href='/{section.lower()}'>{section}</a></h2><ul>{items}</ul></section>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>World news | Loopback Gazette</title></head>"
        "<body><header><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></header><main>"
        + "".join(blocks)
        + "</main><footer><p>Copyright Loopback Gazette</p></footer></body></html>"
    )


def soft_404_html() -> str:
    """An error page served with status 200: an apology, a search hint, and a list of popular stories."""
    popular = "".join(f"<li><a href='/story-{i}'>{escape(s)}</a></li>" for i, s in enumerate(_SENTENCES[:8]))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Page not found | Loopback Gazette</title></head>"
        "<body><header><nav><a href='/'>Home</a></nav></header><main><article>"
        "<h1>Sorry, we couldn't find that page</h1>"
        "<p>The page you were looking for may have been moved, renamed or removed from our website. "
        "Please check the address for mistakes, or use the search box at the top of every page to find "
        "the story you wanted. You can also return to our home page and browse the latest news from the "
        "region, or read one of the stories our readers liked most this week, listed below.</p>"
        f"<h2>Most read</h2><ul>{popular}</ul></article></main></body></html>"
    )


def _gzip_bomb_members(total: int = 1024 * 1024 * 1024, block: int = 16 * 1024 * 1024) -> tuple[bytes, int]:
    """One gzip member of ``block`` zero bytes and how many of them make ``total``: sent one after
    another they are one gzip stream (RFC 1952 allows several members) expanding to ``total``."""
    return gzip.compress(b"\0" * block, compresslevel=9), total // block


@dataclass
class Case:
    """One misbehaving URL: ``name`` (path ``/c/<name>``, unless ``link`` is given), what the server
    does, and what the crawl must do: ``expect`` is ``"stored"``, ``"errors/<kind>"`` or
    ``"skipped/<reason>"``; ``stored_url``: the URL the stored row has (after redirects)."""

    name: str
    serve: Callable[[BaseHTTPRequestHandler, int], None] | None
    expect: str
    link: str = ""
    stored_url: str = ""
    note: str = ""
    owner: str = "crawl"
    """``extraction``: getting it right is extraction's part (decoding, deep trees); until then the
    crawl must at least account for it (stored, or counted)."""
    hits: list[float] = field(default_factory=list)


class Canary:
    """A named pipe standing for a local file a feed links to. Opening it to read (what fetching a
    ``file:`` URL does) unblocks :attr:`thread`, which records it; ``close`` ends the watch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self._closing = False
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        with open(self.path, "w") as pipe:  # blocks until someone opens the pipe to read
            if not self._closing:
                self.opened = True
            with suppress(BrokenPipeError):
                pipe.write("SECRET-CANARY-CONTENT\n")

    def close(self) -> None:
        self._closing = True
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # lets the watcher return
        self.thread.join(5)
        os.close(fd)


def _send(
    h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None, length: bool = True
) -> None:
    h.send_response(status)
    all_headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    if length:
        all_headers.setdefault("Content-Length", str(len(body)))
    for name, value in all_headers.items():
        if value is not None:
            h.send_header(name, value)
    h.end_headers()
    with suppress(BrokenPipeError, ConnectionResetError):
        h.wfile.write(body)


def _page(case: str, **kw: Any) -> Callable[[BaseHTTPRequestHandler, int], None]:
    html = article_html(case, **kw).encode("utf-8")
    return lambda h, n: _send(h, 200, html)


def _redirect(status: int, location: str) -> Callable[[BaseHTTPRequestHandler, int], None]:
    return lambda h, n: _send(h, status, b"", {"Location": location})


def build_cases(base: str, other: str, canary: Path) -> list[Case]:
    """Every case, for the site at ``base`` with ``other`` as the host no request may reach."""
    c: list[Case] = []

    def add(name: str, serve: Any, expect: str, **kw: Any) -> None:
        c.append(Case(name, serve, expect, **kw))

    add("ok", _page("ok"), "stored", note="a plain article")
    gz = gzip.compress(article_html("gzip").encode())
    add("gzip", lambda h, n: _send(h, 200, gz, {"Content-Encoding": "gzip"}), "stored", note="gzip-encoded")
    no_type = article_html("no_content_type").encode()
    add(
        "no_content_type",
        lambda h, n: _send(h, 200, no_type, {"Content-Type": None}),
        "stored",
        note="no Content-Type header",
    )

    slow = article_html("slow").encode()

    def serve_slow(h: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(1.0)
        _send(h, 200, slow)

    add("slow", serve_slow, "stored", note="answers after 1 s")

    def serve_hang(h: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(TIMEOUT + 1.5)

    add("timeout", serve_hang, "errors/DownloadTimeoutError", note=f"no answer within DOWNLOAD_TIMEOUT ({TIMEOUT} s)")

    def serve_drop(h: BaseHTTPRequestHandler, n: int) -> None:
        h.close_connection = True  # closed without a byte of response

    add("drop", serve_drop, "errors/DownloadFailedError", note="connection closed before any response")
    partial = article_html("partial").encode()

    def serve_partial(h: BaseHTTPRequestHandler, n: int) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(partial) * 4))
        h.end_headers()
        h.wfile.write(partial[: len(partial) // 2])
        h.close_connection = True

    add("partial", serve_partial, "errors/ResponseDataLossError", note="Content-Length promises more than is sent")
    member, repeats = _gzip_bomb_members()

    def serve_bomb(h: BaseHTTPRequestHandler, n: int) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(member) * repeats))
        h.end_headers()
        try:
            for _ in range(repeats):
                h.wfile.write(member)
        except (BrokenPipeError, ConnectionResetError):
            pass

    add(
        "gzip_bomb",
        serve_bomb,
        "errors/too_large",
        note=f"{len(member) * repeats // 1024} KB of gzip expanding to 1 GB",
    )
    big = article_html("big", extra="<!-- " + "x" * (MAXSIZE + 1024 * 1024) + " -->").encode()
    add("big", lambda h, n: _send(h, 200, big), "errors/too_large", note="11 MB, with Content-Length")
    add(
        "big_unannounced",
        lambda h, n: _send(h, 200, big, length=False),
        "errors/too_large",
        note="11 MB, no Content-Length (read until the server closes)",
    )
    large = article_html("large_ok", extra="<script>var data = " + "[1,2,3]," * 200_000 + "0;</script>").encode()
    add(
        "large_ok",
        lambda h, n: _send(h, 200, large),
        "stored",
        note=f"{len(large) // 1024} KB page (1.6 MB of script), under the limit",
    )
    add("deep", _page("deep", wrap=400), "stored", owner="extraction", note="the article inside 400 nested <div>")
    rng = random.Random(7)
    binary = bytes(rng.getrandbits(8) for _ in range(20_000))
    add(
        "binary",
        lambda h, n: _send(h, 200, binary, {"Content-Type": "application/octet-stream"}),
        "skipped/not_html",
        note="random bytes as application/octet-stream",
    )
    plain = article_html("text_plain").encode()
    add(
        "text_plain",
        lambda h, n: _send(h, 200, plain, {"Content-Type": "text/plain; charset=utf-8"}),
        "skipped/not_html",
        note="an article served as text/plain",
    )
    add("empty", lambda h, n: _send(h, 200, b""), "skipped/empty_or_unparsable_document", note="status 200, empty body")
    front = section_front_html().encode()
    add("section_front", lambda h, n: _send(h, 200, front), "skipped/listing", note="navigation and headlines only")
    soft = soft_404_html().encode()
    add("soft_404", lambda h, n: _send(h, 200, soft), "skipped/soft_404", note="'page not found' with status 200")
    add("http_404", lambda h, n: _send(h, 404, b"<html><title>Not found</title></html>"), "errors/http_404")
    add("http_410", lambda h, n: _send(h, 410, b"<html><title>Gone</title></html>"), "errors/http_410")
    add(
        "http_500",
        lambda h, n: _send(h, 500, b"<html><title>Error</title></html>"),
        "errors/http_500",
        note="retried twice, then counted",
    )
    r429 = article_html("r429").encode()
    add(
        "r429",
        lambda h, n: _send(h, 429, b"slow down", {"Retry-After": "2"}) if n == 1 else _send(h, 200, r429),
        "stored",
        note="429 with Retry-After: 2 first, then the article",
    )
    r503 = article_html("r503").encode()
    add(
        "r503",
        lambda h, n: _send(h, 503, b"busy", {"Retry-After": "1"}) if n == 1 else _send(h, 200, r503),
        "stored",
        note="503 with Retry-After: 1 first, then the article",
    )
    add("always_503", lambda h, n: _send(h, 503, b"busy"), "errors/http_503", note="503 every time")
    for status in (301, 302, 303, 307, 308):
        target = f"target_{status}"
        add(
            f"redirect_{status}",
            _redirect(status, f"/c/{target}"),
            "stored",
            stored_url=f"{base}/c/{target}",
            note=f"{status} to another page of the site",
        )
        add(target, _page(target), "", link="-")  # served, not linked from the feed
    add(
        "redirect_chain",
        _redirect(301, "/c/redirect_chain_b"),
        "stored",
        stored_url=f"{base}/c/target_chain",
        note="301 to a 302 to the page",
    )
    add("redirect_chain_b", _redirect(302, "/c/target_chain"), "", link="-")
    add("target_chain", _page("target_chain"), "", link="-")
    add("redirect_loop", _redirect(302, "/c/redirect_loop_b"), "errors/too_many_redirects", note="a to b to a ...")
    add("redirect_loop_b", _redirect(302, "/c/redirect_loop"), "", link="-")
    add("redirect_offsite", _redirect(302, f"{other}/stolen"), "errors/offsite_redirect", note="302 to another host")
    add(
        "redirect_offsite_relative",
        _redirect(301, f"//{other.split('//', 1)[1]}/stolen"),
        "errors/offsite_redirect",
        note="301 to //other-host/... (scheme-relative)",
    )
    add("redirect_file", _redirect(302, canary.as_uri()), "errors/unsafe_scheme", note="302 to file:")
    add("redirect_data", _redirect(302, "data:text/html,<p>injected</p>"), "errors/unsafe_scheme", note="302 to data:")
    add("redirect_ftp", _redirect(307, "ftp://127.0.0.1/pub/file"), "errors/unsafe_scheme", note="307 to ftp:")
    refresh_off = article_html(
        "refresh_offsite", head=f"<meta http-equiv='refresh' content='0; url={other}/stolen'>"
    ).encode()
    add(
        "refresh_offsite",
        lambda h, n: _send(h, 200, refresh_off),
        "errors/offsite_redirect",
        note="meta refresh to another host",
    )
    refresh_same = (
        b"<html><head><meta http-equiv='refresh' content='0; url=/c/refresh_target'><title>Moved</title></head>"
        b"<body>Moved.</body></html>"
    )
    add(
        "refresh_same",
        lambda h, n: _send(h, 200, refresh_same),
        "stored",
        stored_url=f"{base}/c/refresh_target",
        note="meta refresh to a page of the site",
    )
    add("refresh_target", _page("refresh_target"), "", link="-")
    add(
        "private",
        _page("private"),
        "errors/robots",
        link=f"{base}/private/c/private",
        note="robots.txt disallows /private/",
    )
    add(
        "wrong_charset",
        lambda h, n: _send(
            h,
            200,
            article_html("wrong_charset", title="Lörrach – the bridge").encode(),
            {"Content-Type": "text/html; charset=ISO-8859-1"},
        ),
        "stored",
        owner="extraction",
        note="UTF-8 page whose HTTP header says ISO-8859-1",
    )
    # Links in the feed that must never be requested.
    add("link_file", None, "errors/unsafe_scheme", link=canary.as_uri(), note="file: link in the feed")
    add("link_data", None, "errors/unsafe_scheme", link="data:text/html;base64,PHA+aW5qZWN0ZWQ8L3A+", note="data: link")
    add("link_ftp", None, "errors/unsafe_scheme", link="ftp://127.0.0.1/pub/article", note="ftp: link")
    add("link_javascript", None, "errors/unsafe_scheme", link="javascript:alert(1)", note="javascript: link")
    add("link_mailto", None, "errors/unsafe_scheme", link="mailto:news@example.org", note="mailto: link")
    add("link_offsite", None, "errors/offsite", link=f"{other}/c/offsite-article", note="a link to another host")
    add("link_bad_url", None, "errors/bad_url", link="http://[::1", note="a malformed URL")
    add(
        "link_too_long",
        _page("too_long"),
        "errors/url_too_long",
        link=f"{base}/c/link_too_long?q=" + "a" * 2100,
        note="a URL over URLLENGTH_LIMIT (2083)",
    )
    for case in c:
        if not case.link:
            case.link = f"{base}/c/{case.name}"
        if case.expect == "stored" and not case.stored_url:
            case.stored_url = case.link
    return c


def feed_xml(cases: list[Case], stored_only: bool = False) -> bytes:
    """The RSS feed linking to every case (``stored_only``: to the cases that store an article)."""
    items = "".join(
        f"<item><title>{escape(c.name)}</title><link>{escape(c.link)}</link></item>"
        for c in cases
        if c.link != "-" and (c.expect == "stored" or not stored_only)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Faults</title>"
        f"{items}</channel></rss>"
    ).encode()


@dataclass
class FaultWeb:
    """The running servers: ``base`` (the site), ``other`` (the host no request may reach), the
    cases, every request each server got (``requests``, ``other_requests``: paths), and the canary."""

    base: str
    other: str
    cases: list[Case]
    canary: Canary
    requests: list[tuple[float, str]] = field(default_factory=list)
    other_requests: list[str] = field(default_factory=list)

    @property
    def feed(self) -> str:
        """The feed linking to every case."""
        return f"{self.base}/feed.xml"

    @property
    def plain_feed(self) -> str:
        """The feed linking only to the cases that give an article (a crawl without the hostile ones)."""
        return f"{self.base}/feed-plain.xml"

    def case(self, name: str) -> Case:
        return next(c for c in self.cases if c.name == name)


def _server(host: str, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def fault_web(folder: Path) -> Iterator[FaultWeb]:
    """Start both servers (the canary pipe in ``folder``); yields the :class:`FaultWeb`."""
    lock = threading.Lock()
    web: FaultWeb | None = None

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert web is not None
            with lock:
                web.requests.append((time.monotonic(), self.path))
            if self.path in ("/feed.xml", "/feed-plain.xml"):
                body = feed_xml(web.cases, stored_only=self.path == "/feed-plain.xml")
                _send(self, 200, body, {"Content-Type": "application/rss+xml"})
                return
            if self.path == "/robots.txt":
                _send(self, 200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"})
                return
            name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
            found = [c for c in web.cases if c.name == name and c.serve is not None]
            if not found:
                _send(self, 404, b"<html><title>Not found</title></html>")
                return
            case = found[0]
            with lock:
                case.hits.append(time.monotonic())
                count = len(case.hits)
            case.serve(self, count)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    class Other(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert web is not None
            with lock:
                web.other_requests.append(self.path)
            _send(self, 200, article_html("stolen").encode())

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    site = _server("127.0.0.1", Site)
    other = _server(OTHER_HOST, Other)
    base = f"http://127.0.0.1:{site.server_address[1]}"
    other_base = f"http://{OTHER_HOST}:{other.server_address[1]}"
    canary = Canary(folder / "canary-secret.txt")
    web = FaultWeb(base, other_base, build_cases(base, other_base, canary.path), canary)
    try:
        yield web
    finally:
        canary.close()
        for server in (site, other):
            server.shutdown()
            server.server_close()
