"""Helpers the tests share: running ``scrapy crawl`` as a user does, reading what a crawl stored, and a
loopback HTTP server whose answers a test writes."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from newsclean.fixtures import serve_handler

ROOT = Path(__file__).resolve().parent.parent
# Settings for a crawl of loopback servers: no politeness delays (they would only slow the tests).
FAST = ("AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0")


def crawl_cmd(spider: str, mirror: str | None = None, db: Path | None = None, *settings: str, **args: str) -> list[str]:
    """``scrapy crawl SPIDER`` against ``mirror``, storing into ``db``, fast, with more ``-s`` settings
    and ``-a`` spider arguments."""
    cmd = ["scrapy", "crawl", spider]
    given = [*([f"NEWSCLEAN_MIRROR={mirror}"] if mirror else []), *([f"NEWSCLEAN_DB={db}"] if db else []), *FAST]
    for setting in (*given, *settings):
        cmd += ["-s", setting]
    for name, value in args.items():
        cmd += ["-a", f"{name}={value}"]
    return cmd


def run(
    cmd: list[str], env: dict[str, str], timeout: float = 180, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in the project folder; with ``check``, fail the test (with the log's end) unless it exits 0."""
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def rows(db: Path, table: str = "articles", key: str = "canonical_url") -> dict[str, dict[str, Any]]:
    """Every row of ``table`` in the store at ``db``, by ``key``."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row[key]: dict(row) for row in conn.execute(f"SELECT * FROM {table}")}


def latest_run(db: Path) -> dict[str, Any]:
    """The newest row of ``runs``."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone())


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# What a test's server answers: (status, headers, body) for a request handler.
Respond = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@contextmanager
def http_server(respond: Respond) -> Iterator[str]:
    """A loopback HTTP server answering every GET with ``respond(request)``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = respond(self)
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's naming)
            pass

    with serve_handler(Handler) as url:
        yield url


# Five paragraphs of an ordinary news story, for extraction cases that need running text to keep.
STORY = [
    "The regional council voted on Tuesday to extend the night bus network to three outer districts.",
    "Officials said the new routes would start in March and would cost about two million a year to run.",
    "Residents of the districts had campaigned for the change for more than five years, they said.",
    "The transport authority will publish the timetables in February, a spokeswoman told reporters.",
    "Drivers' unions welcomed the decision but asked for more staff before the service begins.",
]
