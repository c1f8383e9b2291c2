"""The fixture format: saved pages with their expected outcome; checking a page against it; and a
loopback HTTP server that serves them. Tests, ``newsclean fixture`` and the demo all use this module
(what ``web_poet.testing`` is to web-poet).

Layout: ``fixtures/<site>/<name>.<ext>`` (the body exactly as served) with ``<name>.json`` beside it::

    {"url": "https://...", "fetched": "2026-11-24", "reconstructed": true,
     "kind": "article" | "not_article" | "listing" | "feed" | "sitemap" | "robots",
     "status": 200, "content_type": "text/html; charset=utf-8",
     "expected": {...Article fields...} | {"reason": "..."}}

The server answers ``GET /<host>/<path>?<query>`` with the fixture whose URL is
``<scheme>://<host>/<path>?<query>``, which is what :mod:`newsclean.mirror` asks for.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from newsclean.extraction.result import Extraction

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "fixtures"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}


# The Article fields an article fixture's "expected" holds and tests compare; the others are derived
# (word_count, content_hash), depend on the run (fetched_at) or on the detector (language_probability).
FIXTURE_FIELDS: tuple[str, ...] = (
    "url",
    "canonical_url",
    "site",
    "title",
    "subtitle",
    "authors",
    "source",
    "published",
    "published_raw",
    "modified",
    "modified_raw",
    "section",
    "tags",
    "description",
    "image",
    "language",
    "text",
)
# A string longer than this, or holding a line break, is shown as a diff of paragraphs.
LONG = 120


@dataclass(frozen=True)
class Fixture:
    """One saved response and what newsclean should make of it."""

    body_path: Path
    meta: dict[str, Any]

    @property
    def site(self) -> str:
        return self.body_path.parent.name

    @property
    def url(self) -> str:
        return str(self.meta["url"])

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "article"))

    @property
    def status(self) -> int:
        return int(self.meta.get("status", 200))

    @property
    def content_type(self) -> str:
        default = CONTENT_TYPES.get(self.body_path.suffix, "application/octet-stream")
        return str(self.meta.get("content_type") or default)

    @property
    def expected(self) -> dict[str, Any]:
        return dict(self.meta.get("expected", {}))

    @property
    def mirror_key(self) -> str:
        return mirror_key(self.url)

    def body(self) -> bytes:
        return self.body_path.read_bytes()


def mirror_key(url: str) -> str:
    """``host/path?query`` of ``url``: the key a fixture is served under."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def load_fixtures(root: Path = DEFAULT_ROOT, site: str | None = None) -> list[Fixture]:
    """Every fixture under ``root`` (or under ``root/site``), sorted by path."""
    found = []
    for meta_path in sorted((root / site if site else root).rglob("*.json")):
        bodies = [p for p in meta_path.parent.glob(meta_path.stem + ".*") if p.suffix != ".json"]
        if len(bodies) != 1:
            raise ValueError(f"{meta_path}: expected exactly one body file beside it, found {len(bodies)}")
        found.append(Fixture(bodies[0], json.loads(meta_path.read_text(encoding="utf-8"))))
    return found


def expected_fields(article: Any) -> dict[str, Any]:
    """The fields of ``article`` that an article fixture's "expected" holds."""
    values = dataclasses.asdict(article)
    return {name: values[name] for name in FIXTURE_FIELDS}


def empty_fields(expected: dict[str, Any]) -> list[str]:
    """Names of the fields in ``expected`` whose value is empty."""
    return sorted(name for name, value in expected.items() if value in ("", [], {}, None))


def dump_json(meta: dict[str, Any]) -> str:
    """A fixture's JSON as stored: sorted keys, UTF-8 characters, indent 2, final newline."""
    return json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def fixture_id(fixture: Fixture) -> str:
    """``<site>/<body file>``: how reports and test ids name a fixture."""
    return f"{fixture.site}/{fixture.body_path.name}"


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def describe(label: str, field: str, want: Any, got: Any) -> str:
    """One difference: ``<label>: <field>: expected ... got ...``, long texts as a diff of paragraphs."""
    long = isinstance(want, str) and isinstance(got, str) and max(len(want), len(got)) > LONG
    if long or "\n" in f"{want}{got}":
        diff = difflib.unified_diff(
            str(want).split("\n\n"), str(got).split("\n\n"), "expected", "got", lineterm="", n=1
        )
        return f"{label}: {field}: expected ... got ... (paragraphs):\n" + "\n".join(diff)
    return f"{label}: {field}: expected {show(want)} got {show(got)}"


def differences(fixture: Fixture, result: Extraction | None = None) -> list[str]:
    """What extracting ``fixture`` now gives that its JSON does not expect, one line per field."""
    label = fixture_id(fixture)
    if result is None:
        from newsclean.extraction import extract

        result = extract(fixture.body(), fixture.url)
    if fixture.kind == "not_article":
        want = fixture.expected.get("reason", "")
        if result.article is not None:
            return [f"{label}: reason: expected {show(want)} got an article ({show(result.article.title)})"]
        return [] if want in result.reason else [describe(label, "reason", want, result.reason)]
    if result.article is None:
        return [f"{label}: no article extracted: {result.reason}"]
    got = dataclasses.asdict(result.article)
    return [describe(label, k, want, got.get(k)) for k, want in fixture.expected.items() if got.get(k) != want]


def update_fixture(fixture: Fixture, result: Extraction) -> list[str]:
    """Rewrite ``fixture``'s JSON to expect what ``result`` holds; the fields that are now empty."""
    meta = dict(fixture.meta)
    meta_path = fixture.body_path.with_suffix(".json")
    if fixture.kind == "not_article":
        meta["expected"] = {**fixture.expected, "reason": result.reason}
        empty: list[str] = []
    else:
        assert result.article is not None
        meta["expected"] = expected_fields(result.article)
        empty = empty_fields(meta["expected"])
        meta.pop("empty", None)
        if empty:
            meta["empty"] = empty
    meta_path.write_text(dump_json(meta), encoding="utf-8")
    return empty


def _handler(routes: dict[str, Fixture], delay: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fixture = routes.get(self.path.lstrip("/"))
            if fixture is None:
                self.send_error(404, "no fixture for this URL")
                return
            body = fixture.body()
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            if fixture.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            if delay:
                time.sleep(delay)
            self.send_response(fixture.status)
            self.send_header("Content-Type", fixture.content_type)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's naming)
            pass

    return Handler


@contextmanager
def serve(root: Path = DEFAULT_ROOT, port: int = 0, delay: float = 0.0) -> Iterator[str]:
    """Serve the fixtures under ``root`` on loopback while the block runs; yields the base URL.

    Answers ``If-None-Match`` with 304 when the body is unchanged; ``delay`` (seconds) slows every
    full answer, to catch a crawl mid-run.
    """
    routes = {f.mirror_key: f for f in load_fixtures(root)}
    with serve_handler(_handler(routes, delay), port) as url:
        yield url


@contextmanager
def serve_handler(handler: type[BaseHTTPRequestHandler], port: int = 0, **server_attributes: Any) -> Iterator[str]:
    """A loopback HTTP server with ``handler`` while the block runs (``server_attributes`` set on the
    server, where the handler reads them as ``self.server.<name>``); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    for name, value in server_attributes.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, name="loopback-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
