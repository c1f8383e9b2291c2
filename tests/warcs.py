"""WARC files for the tests, written with warcio's own writer (as other archiving tools write them):
the shipped fixture pages as response records, gzip per record, plus the records a backfill must skip."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsclean.fixtures import Fixture, load_fixtures

from .helpers import serve_handler

WARC_DATE = "2024-12-31T08:00:00Z"
WARC_DATE_ISO = "2024-12-31T08:00:00+00:00"


def _response(writer: WARCWriter, url: str, status: int, content_type: str, body: bytes, date: str) -> object:
    reason = {200: "OK", 404: "Not Found"}.get(status, "Other")
    headers = StatusAndHeaders(
        f"{status} {reason}", [("Content-Type", content_type), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
    )
    return writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )  # fmt: skip


def write_fixture_warc(path: Path, fixtures: list[Fixture] | None = None, truncate: bool = True) -> dict[str, int]:
    """A ``.warc.gz`` of every fixture (request + response), a revisit record, a JPEG, and (``truncate``)
    a last article record cut in the middle. Returns how many records of each kind it holds."""
    fixtures = load_fixtures() if fixtures is None else fixtures
    counts = {"fixtures": 0, "revisit": 0, "image": 0, "truncated": 0}
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for fixture in fixtures:
            response = _response(writer, fixture.url, fixture.status, fixture.content_type, fixture.body(), WARC_DATE)
            request = writer.create_warc_record(
                fixture.url, "request",
                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")], is_http_request=True),
            )  # fmt: skip
            writer.write_request_response_pair(request, response)
            counts["fixtures"] += 1
        article = next(f for f in fixtures if f.kind == "article")
        revisit = writer.create_revisit_record(
            article.url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", refers_to_uri=article.url,
            refers_to_date=WARC_DATE,
        )  # fmt: skip
        writer.write_record(revisit)
        counts["revisit"] += 1
        image = _response(
            writer, "https://www.trtworld.com/images/lead.jpg", 200, "image/jpeg", b"\xff\xd8" * 500, WARC_DATE
        )
        writer.write_record(image)
        counts["image"] += 1
        if truncate:
            cut_at = out.tell()
            writer.write_record(_response(writer, article.url + "?cut=1", 200, "text/html", article.body(), WARC_DATE))
            size = out.tell()
            counts["truncated"] += 1
    if truncate:
        data = path.read_bytes()
        path.write_bytes(data[: cut_at + (size - cut_at) // 2])
    return counts


class _RangeHandler(BaseHTTPRequestHandler):
    """Serves the files of ``server.folder`` with ``Range: bytes=a-b`` support, as object stores do."""

    def _send(self, head_only: bool) -> None:
        path = self.server.folder / self.path.lstrip("/").split("?")[0]  # type: ignore[attr-defined]
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            data = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{start + len(data) - 1}/{path.stat().st_size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/warc")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head_only:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(False)

    def do_HEAD(self) -> None:
        self._send(True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Base URL of a loopback HTTP server serving ``folder`` with range requests."""
    with serve_handler(_RangeHandler, folder=folder) as url:
        yield url


_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.IGNORECASE)
_PARAGRAPH = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)


def copy_page(html: bytes, url: str, n: int) -> bytes:
    """Copy ``n`` of a page: its own canonical URL and its number in every paragraph, so no two are alike."""
    link = f'<link rel="canonical" href="{url}">'.encode()
    html, found = _CANONICAL.subn(link, html, count=1)
    if not found:
        html = html.replace(b"</head>", link + b"</head>", 1)
    return _PARAGRAPH.sub(lambda m: m.group(0) + b"Copy %d. " % n, html)


def write_copies_warc(path: Path, count: int) -> list[str]:
    """A ``.warc.gz`` of ``count`` unique article pages made from the article fixtures; their URLs."""
    articles = [f for f in load_fixtures() if f.kind == "article"]
    urls = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for n in range(count):
            fixture = articles[n % len(articles)]
            url = f"{fixture.url}-copy{n}"
            body = copy_page(fixture.body(), url, n)
            writer.write_record(_response(writer, url, 200, fixture.content_type, body, WARC_DATE))
            urls.append(url)
    return urls


def append_response(path: Path, url: str, body: bytes, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
    """Add an HTML response record for ``url`` (with the HTTP ``headers`` besides its type and length)
    at the end of the ``.warc.gz`` at ``path``."""
    with path.open("ab") as out:
        writer = WARCWriter(out, gzip=True)
        record = _response(writer, url, 200, "text/html; charset=utf-8", body, WARC_DATE)
        for name, value in headers:
            record.http_headers.add_header(name, value)  # type: ignore[attr-defined]
        writer.write_record(record)
