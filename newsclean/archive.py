"""WARC files in and out, with warcio; nothing here imports Scrapy.

In: :func:`read_records` streams the records of a local ``.warc`` / ``.warc.gz`` file or of an
``http(s)`` URL (from a byte offset, to resume), each with the (file, offset, length) that finds it
again; :func:`read_page` reads one response record back from its (file, offset), by a seek or an HTTP
range request, as Common Crawl's index lookups do.

Out: :class:`ArchiveWriter` writes request/response record pairs (``WARC-Payload-Digest`` and
``WARC-Block-Digest`` computed by warcio), one gzip member per record, into files of
``newsclean-<time>-<serial>-<pid>.warc.gz`` rotated at a size limit, each opened by a ``warcinfo``
record: any WARC tool reads them (``warcio check``, ``warcio index``, pywb, ...).

warcio rather than resiliparse's FastWARC: both read 1,700-3,000 records a second here, far faster
than extraction, and warcio writes WARCs too, is pure Python (no compiled wheel), and is what
news-please reads Common Crawl with (fundus uses FastWARC).
"""

from __future__ import annotations

import glob
import io
import os
import re
import socket
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsclean import dates

# Files rotate once they pass this size (Common Crawl's and Heritrix's WARCs are about 1 GB).
DEFAULT_MAX_SIZE = 1 << 30
# zlib's default: level 9 (warcio's) costs 60% more CPU for files smaller by under 1% on HTML.
GZIP_LEVEL = 6
# Bytes of one record's payload read at most (a larger page is cut here and marked truncated).
MAX_PAYLOAD = 16 << 20
_HTTP_TIMEOUT = 60
_REMOTE = re.compile(r"^https?://", re.IGNORECASE)
# What a cut or corrupt file raises while warcio reads it (zlib.error: a gzip member cut short).
_BROKEN = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, isal_zlib.error)


def _gzip_decompressor() -> Any:
    return isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)


# warcio inflates gzip (each record's member, and a gzip Content-Encoding) with ISA-L's inflate, a
# drop-in for zlib's (the same bytes out, the same decompressor interface): gzip is most of the CPU
# of reading a WARC, and ISA-L takes about 60% of zlib's time for it (the benchmark's 3,000-page WARC
# read with read_records: 0.86-0.97 ms a page with zlib, 0.59-0.62 with ISA-L, same bodies).
BufferedReader.DECOMPRESSORS["gzip"] = _gzip_decompressor


# Where an item's raw page is: an attribute of the item (not a field, so not exported), and the key
# in a request's meta where the archiving middleware leaves it for the spider.
RAW_PAGE_ATTR = "_newsclean_raw_page"
META_RAW_PAGE = "newsclean_raw_page"
# The key in a request's meta of the WARC record a backfill replays.
META_WARC_RECORD = "newsclean_warc_record"


class ArchiveError(Exception):
    """A WARC file or record that cannot be read."""


@dataclass(frozen=True)
class RawPage:
    """Where a page's raw HTTP response is: a WARC file (path or URL), the record's offset and length."""

    file: str
    offset: int
    length: int = 0


@dataclass
class Record:
    """One WARC record as the backfill sees it.

    ``body`` is the HTTP payload, transfer- and content-decoded, for a ``response`` record whose
    caller asked for it (else empty). ``truncated``: the record ended before its declared length (a
    cut file) or carries ``WARC-Truncated``.
    """

    kind: str  # WARC-Type: response, request, revisit, warcinfo, metadata, ...
    url: str
    date: str  # WARC-Date as ISO 8601 UTC
    status: int  # HTTP status of a response/revisit record, else 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    page: RawPage | None = None
    truncated: bool = False

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), "")

    @property
    def content_type(self) -> str:
        return self.header("Content-Type")


def raw_page_of(item: Any) -> RawPage | None:
    """Where an item's raw page is (set by the spider that produced it), if known."""
    return getattr(item, RAW_PAGE_ATTR, None)


def set_raw_page(item: Any, page: RawPage | None) -> None:
    if page is not None:
        object.__setattr__(item, RAW_PAGE_ATTR, page)


def is_remote(source: str) -> bool:
    return bool(_REMOTE.match(source))


def expand_sources(spec: str) -> list[str]:
    """The WARC files a ``path=`` argument names: comma-separated local paths, globs and http(s) URLs,
    in the order given (each glob sorted). A local path that matches nothing is an error."""
    found: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if is_remote(part):
            found.append(part)
            continue
        matches = sorted(glob.glob(os.path.expanduser(part))) if glob.has_magic(part) else [part]
        matches = [m for m in matches if Path(m).is_file()]
        if not matches:
            raise ArchiveError(f"no WARC file at {part}")
        found.extend(str(Path(m).resolve()) for m in matches)
    if not found:
        raise ArchiveError("no WARC file given")
    return found


class _Counting(io.RawIOBase):
    """A read-only stream that reports its position as ``base`` plus the bytes read, so that warcio
    gives file offsets when reading from a pipe or from an HTTP range starting at ``base``."""

    def __init__(self, raw: IO[bytes], base: int = 0) -> None:
        self.raw = raw
        self.pos = base

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_source(source: str, offset: int = 0, length: int = 0) -> IO[bytes]:
    """A binary stream of ``source`` (path or http(s) URL) from byte ``offset`` (``length`` bytes, or to
    the end), reporting file positions with ``tell()``."""
    if is_remote(source):
        request = urllib.request.Request(source, headers={"User-Agent": "newsclean (WARC reader)"})
        if offset or length:
            end = str(offset + length - 1) if length else ""
            request.add_header("Range", f"bytes={offset}-{end}")
        try:
            response = urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT)
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"{source}: {exc}") from exc
        if offset and response.status != 206:
            response.close()
            raise ArchiveError(f"{source}: the server ignored the range request (status {response.status})")
        return _Counting(response, offset)  # type: ignore[return-value]
    try:
        handle = open(source, "rb")  # noqa: SIM115 (closed by the caller)
    except OSError as exc:
        raise ArchiveError(f"{source}: {exc}") from exc
    handle.seek(offset)
    return handle


def source_size(source: str) -> int | None:
    """The size of a WARC file in bytes, when known (a local file; an HTTP Content-Length)."""
    if not is_remote(source):
        try:
            return os.path.getsize(source)
        except OSError:
            return None
    request = urllib.request.Request(source, method="HEAD", headers={"User-Agent": "newsclean (WARC reader)"})
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response:
            size = response.headers.get("Content-Length")
            return int(size) if size and size.isdigit() else None
    except (OSError, ValueError):
        return None


def _iso(warc_date: str) -> str:
    """WARC-Date (``2024-12-27T10:30:00Z``, maybe with fractions) as newsclean's ISO 8601 UTC."""
    try:
        when = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    except ValueError:
        return warc_date
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _status(record: Any) -> int:
    if record.http_headers is None:
        return 0
    try:
        return int(record.http_headers.get_statuscode() or 0)
    except (TypeError, ValueError):
        return 0


def _read_payload(record: Any) -> tuple[bytes, bool]:
    """The record's HTTP payload, de-chunked and decompressed (gzip, deflate, br when installed), and
    whether it is incomplete. A payload whose Content-Encoding cannot be decoded is read raw."""
    declared = record.length or 0
    try:
        stream = record.content_stream()
        body = stream.read(MAX_PAYLOAD + 1)
    except Exception:
        body = b""
    truncated = len(body) > MAX_PAYLOAD or bool(record.rec_headers.get_header("WARC-Truncated"))
    # What is left of the record block tells a cut file: its stream ends before the declared length.
    while record.raw_stream.read(1 << 16):
        pass
    limit = getattr(record.raw_stream, "limit", None)
    if declared and isinstance(limit, int) and limit > 0:
        truncated = True
    return body[:MAX_PAYLOAD], truncated


def read_records(
    source: str,
    offset: int = 0,
    wanted: Any = None,
) -> Iterator[Record]:
    """Every record of ``source`` from byte ``offset`` (a record boundary), in file order.

    ``wanted(record)`` is asked, for each ``response`` record with a 200 status, whether to read its
    body (the others are skipped unread, which is fast). A file cut in the middle of a record ends
    the iteration with a last record marked ``truncated``, or with :class:`ArchiveError` when not even
    its headers can be read.
    """
    stream = open_source(source, offset)
    size = source_size(source) if not is_remote(source) else None
    iterator = ArchiveIterator(stream)
    end = offset
    try:
        while True:
            try:
                raw = next(iterator)
            except StopIteration:
                break
            except _BROKEN as exc:
                raise ArchiveError(f"{source}: unreadable record after offset {end} ({exc})") from exc
            headers = list(raw.http_headers.headers) if raw.http_headers is not None else []
            record = Record(
                kind=raw.rec_type,
                url=raw.rec_headers.get_header("WARC-Target-URI") or "",
                date=_iso(raw.rec_headers.get_header("WARC-Date") or ""),
                status=_status(raw),
                headers=headers,
            )
            try:
                if record.kind == "response" and record.status == 200 and (wanted is None or wanted(record)):
                    record.body, record.truncated = _read_payload(raw)
                iterator.read_to_end()
            except _BROKEN as exc:
                record.truncated = True
                record.page = RawPage(source, end, 0)
                yield record
                raise ArchiveError(f"{source}: the record at offset {end} is cut ({exc})") from exc
            record.page = RawPage(source, iterator.get_record_offset(), iterator.get_record_length())
            end = record.page.offset + record.page.length
            yield record
    finally:
        iterator.close()
        stream.close()
    if size is not None and size - end > 4:  # a gzip member cut short: warcio stops without a word
        yield Record(kind="truncated", url="", date="", status=0, page=RawPage(source, end, size - end), truncated=True)


def read_page(page: RawPage) -> Record:
    """The response record at ``page`` (its file, offset and length), with its body."""
    stream = open_source(page.file, page.offset, page.length if is_remote(page.file) else 0)
    try:
        for raw in ArchiveIterator(stream):
            if raw.rec_type not in ("response", "resource"):
                raise ArchiveError(f"{page.file}@{page.offset}: a {raw.rec_type} record, not a response")
            body, truncated = _read_payload(raw)
            return Record(
                kind=raw.rec_type,
                url=raw.rec_headers.get_header("WARC-Target-URI") or "",
                date=_iso(raw.rec_headers.get_header("WARC-Date") or ""),
                status=_status(raw),
                headers=list(raw.http_headers.headers) if raw.http_headers is not None else [],
                body=body,
                page=page,
                truncated=truncated,
            )
    except _BROKEN as exc:
        raise ArchiveError(f"{page.file}@{page.offset}: {exc}") from exc
    finally:
        stream.close()
    raise ArchiveError(f"{page.file}@{page.offset}: no record there")


# Writing --------------------------------------------------------------------------------------------

# Headers that describe the transfer, not the entity: the body is stored as received after
# de-chunking, so a Transfer-Encoding header would make readers de-chunk it again.
_TRANSFER_HEADERS = {"transfer-encoding"}


def _warc_date(when: float | None = None) -> str:
    stamp = dates.now() if when is None else datetime.fromtimestamp(when, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ArchiveWriter:
    """Writes request/response pairs into rotating, gzip-per-record WARC files under ``folder``."""

    def __init__(
        self, folder: str | Path, max_size: int = DEFAULT_MAX_SIZE, prefix: str = "newsclean", software: str = ""
    ) -> None:
        self.folder = Path(folder)
        self.max_size = max_size
        self.prefix = prefix
        self.software = software or "newsclean"
        self.serial = 0
        self.path: Path | None = None
        self.records = 0
        self._handle: IO[bytes] | None = None
        self._writer: WARCWriter | None = None

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dates.now().strftime("%Y%m%d%H%M%S")
        while True:
            name = f"{self.prefix}-{stamp}-{self.serial:05d}-{os.getpid()}.warc.gz"
            self.serial += 1
            path = self.folder / name
            if not path.exists():
                break
        self.path = path
        self._handle = open(path, "xb")  # noqa: SIM115 (closed in close())
        self._writer = WARCWriter(io.BytesIO(), gzip=False, warc_version="1.1")  # builds records; _put writes
        info = self._writer.create_warcinfo_record(
            name,
            {
                "software": self.software,
                "format": "WARC File Format 1.1",
                "hostname": socket.gethostname(),
                "description": "pages fetched by newsclean",
            },
        )
        self._put(info)

    def write(
        self,
        url: str,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        reason: str = "",
        request_headers: Iterable[tuple[str, str]] = (),
        method: str = "GET",
        when: float | None = None,
        ip: str = "",
    ) -> RawPage:
        """Write the response (then its request) and return where the response record is."""
        if self._writer is None or (self._handle is not None and self._handle.tell() >= self.max_size):
            self.close()
            self._open()
        assert self._writer is not None
        assert self._handle is not None
        assert self.path is not None
        date = _warc_date(when)
        kept = [(k, v) for k, v in headers if k.lower() not in _TRANSFER_HEADERS]
        kept = [(k, v) for k, v in kept if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
        status_line = f"{status} {reason or _REASONS.get(status, 'Unknown')}"
        http_headers = StatusAndHeaders(status_line, kept, protocol="HTTP/1.1")
        extra = {"WARC-Date": date}
        if ip:
            extra["WARC-IP-Address"] = ip
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict=extra,
        )
        parts = re.match(r"^[a-z]+://[^/?#]*", url, re.IGNORECASE)
        target = url[parts.end() :] if parts else url
        host = re.sub(r"^[a-z]+://", "", parts.group(0), flags=re.IGNORECASE) if parts else ""
        req_headers = list(request_headers)
        if not any(k.lower() == "host" for k, _ in req_headers) and host:
            req_headers.insert(0, ("Host", host))
        request = self._writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=StatusAndHeaders(f"{method} {target or '/'} HTTP/1.1", req_headers, is_http_request=True),
            warc_headers_dict={"WARC-Date": date},
        )
        offset = self._handle.tell()
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        self._put(response)  # the response first, then its request, as warcio and wget write them
        self._put(request)
        self._handle.flush()  # on disk (in the OS) before any row points to it
        self.records += 1
        return RawPage(str(self.path.resolve()), offset, 0)

    def _put(self, record: Any) -> None:
        """Write ``record`` as one gzip member, at zlib's default level: warcio's own writer compresses at
        level 9, 60% more CPU for the same size within 1% on HTML."""
        assert self._handle is not None
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=False, warc_version="1.1").write_record(record)
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
        self._handle.write(packer.compress(buffer.getvalue()) + packer.flush())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = None
        self._writer = None


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found"}
