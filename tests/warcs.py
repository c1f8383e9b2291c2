"""WARC files for the tests, written with warcio's own writer (as other archiving tools write them):
the shipped fixture pages as response records, gzip per record, plus the records a backfill must skip."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsclean.fixtures import Fixture, load_fixtures

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
