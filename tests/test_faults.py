"""The hostile web, end to end: ``scrapy crawl feed`` (the real engine, every middleware and
pipeline, worker processes, SQLite) against :mod:`tests.faultserver`, whose feed links to one
misbehaving URL per case. Every case is either stored right, or not stored and counted under its
reason, in the crawl's stats and in its ``runs`` row; nothing reaches the other host or reads a file.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .faultserver import TIMEOUT, FaultWeb, article_html, fault_web, paragraphs
from .helpers import crawl_cmd, latest_run, rows, run

pytestmark = pytest.mark.crawl

_STAT = re.compile(r"'newsclean/(errors|skipped|dropped)/([^']+)': (\d+)")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultWeb, Path, str]]:
    import os
    import sys

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    folder = tmp_path_factory.mktemp("faults")
    with fault_web(folder) as web:
        db = folder / "store.sqlite"
        proc = run(crawl_cmd("feed", None, db, f"DOWNLOAD_TIMEOUT={TIMEOUT}", feed=web.feed), env, timeout=120)
        yield web, db, proc.stderr


def _outcomes(web: FaultWeb, db: Path) -> dict[str, str]:
    """Each case's outcome: ``stored``, or ``not stored``."""
    stored = rows(db, key="url")
    return {c.name: "stored" if c.stored_url in stored else "not stored" for c in web.cases if c.expect}


def test_every_case_is_stored_right_or_counted(crawled: tuple[FaultWeb, Path, str]) -> None:
    web, db, log = crawled
    stored = rows(db, key="url")
    cases = [c for c in web.cases if c.expect]
    outcome = _outcomes(web, db)
    expected_counts: Counter[str] = Counter()
    unsettled = []  # extraction's cases not stored: each must be counted under some reason
    for case in cases:
        if case.expect == "stored":
            if case.owner == "extraction" and outcome[case.name] != "stored":
                unsettled.append(case.name)
                continue
            assert outcome[case.name] == "stored", case.name
            row = stored[case.stored_url]
            if case.owner == "crawl":  # stored right: every paragraph of the page, the headline
                target = case.stored_url.rsplit("/", 1)[-1]
                assert row["text"].split("\n\n") == paragraphs(target), case.name
                assert row["title"] == f"Town news: the {target.replace('_', ' ')} story"
            else:  # extraction's cases: the text whole, and decoded right
                assert row["text"].split("\n\n") == paragraphs(case.name), case.name
                assert "Ã" not in row["title"], case.name
        else:
            assert outcome[case.name] == "not stored", case.name
            expected_counts[case.expect] += 1
    run_row = latest_run(db)
    counted = Counter({f"errors/{k}": v for k, v in json.loads(run_row["errors"]).items()})
    counted.update({f"skipped/{k}": v for k, v in json.loads(run_row["dropped"]).items()})
    extra = counted - expected_counts
    assert counted - extra == expected_counts  # every case counted under its own reason
    assert sum(extra.values()) == len(unsettled), (extra, unsettled)  # and nothing else, bar extraction's
    assert not unsettled, f"extraction's cases not stored: {unsettled}"
    # The stats say the same as the run row.
    in_log = Counter({f"{'errors' if fam == 'errors' else 'skipped'}/{k}": int(v) for fam, k, v in _STAT.findall(log)})
    assert in_log == counted
    assert len(stored) == sum(1 for c in cases if outcome[c.name] == "stored")
    assert run_row["finish_reason"] == "finished"


def test_nothing_offsite_or_local_is_ever_requested(crawled: tuple[FaultWeb, Path, str]) -> None:
    web, db, _ = crawled
    assert web.other_requests == []  # redirects, refreshes and links to the other host: never followed
    assert not web.canary.opened  # the file: link and the redirect to file: never read the file
    paths = [p for _, p in web.requests]
    assert not any(p.startswith("/private/") for p in paths)  # robots.txt obeyed
    assert not any("link_too_long" in p for p in paths)
    for row in rows(db).values():
        assert "SECRET-CANARY" not in row["text"]
        assert "injected" not in row["text"]
        assert row["url"].startswith(web.base)


def test_retry_after_is_honoured(crawled: tuple[FaultWeb, Path, str]) -> None:
    web, _, log = crawled
    r429, r503 = web.case("r429").hits, web.case("r503").hits
    assert len(r429) == 2
    assert r429[1] - r429[0] >= 1.9
    assert len(r503) == 2
    assert r503[1] - r503[0] >= 0.9
    assert "'newsclean/politeness/retry_after': 2" in log


def test_a_gzip_bomb_is_stopped_at_the_size_limit(crawled: tuple[FaultWeb, Path, str]) -> None:
    _, _, log = crawled
    assert re.search(r"gzip_bomb.*exceeded DOWNLOAD_MAXSIZE \(10485760 B\) during decompression", log)


class _Slow(BaseHTTPRequestHandler):
    """Host A: 429 with Retry-After: 3 on the first request, then an article. Host B: articles, 0.4 s each."""

    hits: dict[str, list[float]]
    lock = threading.Lock()

    def do_GET(self) -> None:
        host = str(self.server.server_address[0])
        if self.path in ("/robots.txt", "/.well-known/tdmrep.json"):
            body, status, headers = b"", 404, {}
        else:
            with self.lock:
                self.hits.setdefault(host, []).append(time.monotonic())
                first = len(self.hits[host]) == 1
            if host == "127.0.0.1" and first:
                body, status, headers = b"later", 429, {"Retry-After": "3"}
            else:
                if host != "127.0.0.1":
                    time.sleep(0.4)
                body, status, headers = article_html(f"{host}{self.path}".replace("/", "_")).encode(), 200, {}
        self.send_response(status)
        for name, value in {"Content-Type": "text/html", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_retry_after_pauses_one_site_only(tmp_path: Path, run_env: dict[str, str]) -> None:
    hits: dict[str, list[float]] = {}
    handler = type("Handler", (_Slow,), {"hits": hits})
    servers = [ThreadingHTTPServer((host, 0), handler) for host in ("127.0.0.1", "127.0.0.2")]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        a, b = (f"http://{s.server_address[0]}:{s.server_address[1]}" for s in servers)
        urls = ",".join([f"{a}/slow-site"] + [f"{b}/page-{i}" for i in range(10)])
        db = tmp_path / "store.sqlite"
        run(crawl_cmd("article", None, db, "CONCURRENT_REQUESTS_PER_DOMAIN=1", urls=urls), run_env)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    a_hits, b_hits = hits["127.0.0.1"], hits["127.0.0.2"]
    assert len(a_hits) == 2
    assert a_hits[1] - a_hits[0] >= 2.9
    during = [t for t in b_hits if a_hits[0] < t < a_hits[1]]
    t0 = min(a_hits + b_hits)
    timeline = f"A at {[round(t - t0, 2) for t in a_hits]}, B at {[round(t - t0, 2) for t in b_hits]}"
    # The other site kept downloading while this one waited: some of its pages came during the pause,
    # and none had to wait for the pause to end.
    assert during, timeline
    assert max(b_hits) < a_hits[1], timeline
    assert len(rows(db)) == 11
