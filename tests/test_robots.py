"""robots.txt as RFC 9309 says, Crawl-delay, the TDM reservation and AI signals, per-site minimum
delays and blocks: each end to end, with the real Scrapy engine against loopback servers that record
what reached them (paths, times, User-Agent)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsclean import optout
from newsclean.fixtures import serve_handler

from .faultserver import article_html
from .helpers import crawl_cmd, free_port, latest_run, rows, run

# What a loopback site answers for a path: (status, headers, body), or a callable taking the number
# of times the path was asked before; "hang" sleeps past the crawl's timeout.
Answer = tuple[int, dict[str, str], bytes] | Callable[[int], tuple[int, dict[str, str], bytes]] | str
HTML = {"Content-Type": "text/html; charset=utf-8"}
TIMEOUT = 1  # DOWNLOAD_TIMEOUT of these crawls


@dataclass
class LoopSite:
    """A loopback site: ``answers`` by path (anything else: 404), and a log of what it was asked."""

    answers: dict[str, Answer]
    hits: list[tuple[float, str, str]] = field(default_factory=list)  # (monotonic time, path, User-Agent)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.hits]

    def times(self, prefix: str = "/a") -> list[float]:
        return [t for t, p, _ in self.hits if p.startswith(prefix)]


@contextmanager
def loop_site(answers: dict[str, Answer]) -> Iterator[LoopSite]:
    site = LoopSite(answers)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with site.lock:
                before = sum(1 for _, p, _ in site.hits if p == self.path)
                site.hits.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
            answer = site.answers.get(self.path, (404, {}, b"not here"))
            if answer == "hang":
                time.sleep(TIMEOUT + 1.5)
                return
            status, headers, body = answer(before) if callable(answer) else answer  # type: ignore[misc]
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    with serve_handler(Handler) as url:
        site.url = url
        yield site


def page(name: str, head: str = "", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return 200, {**HTML, **(headers or {})}, article_html(name, head=head).encode()


def robots(text: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/plain"}, text.encode()


def crawl(env: dict[str, str], db: Path, urls: list[str], *settings: str, check: bool = True) -> dict[str, int]:
    """An ``article`` crawl of ``urls``; the run's newsclean counts."""
    run(
        crawl_cmd(
            "article",
            None,
            db,
            "NEWSCLEAN_WORKERS=0",
            "AUTOTHROTTLE_START_DELAY=0.1",
            f"DOWNLOAD_TIMEOUT={TIMEOUT}",
            *settings,
            urls=",".join(urls),
        ),
        env,
        timeout=120,
        check=check,
    )
    return json.loads(latest_run(db)["counts"])


# A request leaves on time but reaches the server a little later when the machine is busy: a gap
# measured at the server may fall short of the delay by that much.
ARRIVAL_JITTER = 0.1


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


# robots.txt ---------------------------------------------------------------------------------


@pytest.mark.crawl
def test_robots_txt_statuses_as_rfc_9309_says(tmp_path: Path, run_env: dict[str, str]) -> None:
    """2xx parsed; 4xx (401 and 403 too): all allowed; 429, 5xx, timeout, refused connection:
    unreachable, the site gets no request at all (fail closed)."""
    cases: dict[str, Answer] = {
        "200": robots("User-agent: *\nDisallow: /a-private\n"),
        "404": (404, {}, b"no"),
        "401": (401, {}, b"no"),
        "403": (403, {}, b"no"),
        "429": (429, {}, b"slow down"),
        "500": (500, {}, b"oops"),
        "503": (503, {}, b"down"),
        "timeout": "hang",
        "5 redirects": (301, {"Location": "/r1"}, b""),
        "6 redirects": (301, {"Location": "/r1"}, b""),
    }
    hops = {"5 redirects": 5, "6 redirects": 6}
    with ExitStack() as stack:
        sites = {}
        for name, answer in cases.items():
            answers = {"/robots.txt": answer, "/a-open": page(f"open {name}"), "/a-private": page(f"priv {name}")}
            if name in hops:
                answers |= {f"/r{i}": (301, {"Location": f"/r{i + 1}"}, b"") for i in range(1, hops[name])}
                answers[f"/r{hops[name]}"] = cases["200"]
            sites[name] = stack.enter_context(loop_site(answers))
        refused_port = f"http://127.0.0.1:{free_port()}"
        urls = [f"{s.url}/{p}" for s in sites.values() for p in ("a-open", "a-private")]
        urls.append(f"{refused_port}/a-open")
        db = tmp_path / "r.sqlite"
        counts = crawl(run_env, db, urls)
    fetched = {name: [p for p in s.paths() if p.startswith("/a")] for name, s in sites.items()}
    assert fetched["200"] == ["/a-open"]  # Disallow obeyed
    assert fetched["5 redirects"] == ["/a-open"]  # RFC 9309: at least five redirects followed
    assert fetched["6 redirects"] == []  # more: unreachable
    for name in ("404", "401", "403"):  # unavailable: every page allowed
        assert sorted(fetched[name]) == ["/a-open", "/a-private"], name
    for name in ("429", "500", "503", "timeout"):  # unreachable: nothing but robots.txt asked
        assert fetched[name] == [], name
        assert set(sites[name].paths()) == {"/robots.txt"}, name
    assert "/r5" in sites["6 redirects"].paths()
    assert "/r6" not in sites["6 redirects"].paths()
    # Scrapy's retries of 429, 5xx and timeouts come first (RETRY_TIMES=2: three tries)
    assert sites["503"].paths().count("/robots.txt") == 3
    stored = rows(db)
    assert len(stored) == 2 + 3 * 2
    assert counts["robots/unreachable"] == 6  # 429, 500, 503, timeout, 6 redirects, connection refused
    assert counts["robots/unreachable_refused"] == 11  # both pages of five sites, one of the refused port
    assert counts["robots/unavailable"] == 3
    assert counts["robots/disallowed"] == 2
    assert counts["errors/robots"] == 2
    assert counts["errors/robots_unreachable"] == 11


def rss(*links: str) -> tuple[int, dict[str, str], bytes]:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>f</title>{items}</channel></rss>"
    return 200, {"Content-Type": "application/rss+xml"}, body.encode()


@pytest.mark.crawl
def test_unreachable_robots_txt_is_fetched_again_later(tmp_path: Path, run_env: dict[str, str]) -> None:
    """A 503 closes the site; a request NEWSCLEAN_ROBOTS_RETRY seconds later asks robots.txt again,
    and, now that it answers, goes through."""

    def flaky(before: int) -> tuple[int, dict[str, str], bytes]:
        return (503, {}, b"down") if before == 0 else robots("User-agent: *\nAllow: /\n")

    with loop_site({"/robots.txt": flaky, "/a1": page("retry 1"), "/feed.xml": rss()}) as late:
        slow_feed = rss(f"{late.url}/a1")

        def slow(before: int) -> tuple[int, dict[str, str], bytes]:
            time.sleep(1.0)  # the link to the closed site comes after NEWSCLEAN_ROBOTS_RETRY
            return slow_feed

        with loop_site({"/robots.txt": robots("User-agent: *\nAllow: /\n"), "/feed.xml": slow}) as other:
            db = tmp_path / "r.sqlite"
            feeds = f"{late.url}/feed.xml,{other.url}/feed.xml"
            run(
                crawl_cmd(
                    "feed", None, db, "NEWSCLEAN_WORKERS=0", "RETRY_TIMES=0", "NEWSCLEAN_ROBOTS_RETRY=0.5", feed=feeds
                ),
                run_env,
            )
    counts = json.loads(latest_run(db)["counts"])
    assert late.paths() == ["/robots.txt", "/robots.txt", "/.well-known/tdmrep.json", "/a1"]
    assert counts["robots/unreachable"] == 1
    assert counts["robots/unreachable_refused"] == 1  # the first feed
    assert len(rows(db)) == 1


@pytest.mark.crawl
def test_robots_groups_match_the_bare_product_token(tmp_path: Path, run_env: dict[str, str]) -> None:
    """`User-agent: research` no longer applies to newsclean (its full User-Agent says "research
    crawler"); `User-agent: newsclean` does. The User-Agent sent stays the full string."""
    text = "User-agent: research\nDisallow: /\n\nUser-agent: newsclean\nDisallow: /a-no\n\nUser-agent: *\nAllow: /\n"
    answers: dict[str, Answer] = {"/robots.txt": robots(text), "/a-yes": page("ua yes"), "/a-no": page("ua no")}
    with loop_site(answers) as site:
        db = tmp_path / "r.sqlite"
        crawl(run_env, db, [f"{site.url}/a-yes", f"{site.url}/a-no"])
    assert [p for p in site.paths() if p.startswith("/a")] == ["/a-yes"]
    assert all(ua.startswith("newsclean/") and "research crawler" in ua for _, _, ua in site.hits)


@pytest.mark.crawl
def test_crawl_delay_is_a_floor_measured_at_the_server(tmp_path: Path, run_env: dict[str, str]) -> None:
    """Crawl-delay 0.6 s with AutoThrottle on and DOWNLOAD_DELAY 0: no two page requests closer."""
    answers: dict[str, Answer] = {
        "/robots.txt": robots("User-agent: *\nCrawl-delay: 0.6\nAllow: /\n"),
        **{f"/a{i}": page(f"delay {i}") for i in range(5)},
    }
    with loop_site(answers) as site:
        crawl(run_env, tmp_path / "r.sqlite", [f"{site.url}/a{i}" for i in range(5)], "AUTOTHROTTLE_ENABLED=1")
    between = gaps(site.times())
    assert len(between) == 4
    assert min(between) >= 0.6 - ARRIVAL_JITTER, between


@pytest.mark.crawl
def test_crawl_delay_is_capped(tmp_path: Path, run_env: dict[str, str]) -> None:
    answers: dict[str, Answer] = {
        "/robots.txt": robots("User-agent: *\nCrawl-delay: 3600\n"),
        **{f"/a{i}": page(f"cap {i}") for i in range(3)},
    }
    with loop_site(answers) as site:
        counts = crawl(
            run_env, tmp_path / "r.sqlite", [f"{site.url}/a{i}" for i in range(3)], "NEWSCLEAN_CRAWL_DELAY_MAX=0.4"
        )
    between = gaps(site.times())
    assert counts["robots/crawl_delay_capped"] == 1
    assert min(between) >= 0.4 - ARRIVAL_JITTER, between
    assert max(between) < 10, between  # not 3600 s (the first gap holds the first extraction's imports)


# TDM reservation and AI signals -------------------------------------------------------------------


def tdm_site() -> dict[str, Answer]:
    tdmrep = [
        {"location": "/a-free/*", "tdm-reservation": 0},
        {"location": "/a-json*", "tdm-reservation": 1, "tdm-policy": "https://example.org/policy.json"},
    ]
    return {
        "/robots.txt": robots(
            "User-agent: *\nContent-Signal: ai-train=no, search=yes\nAllow: /\n\n"
            "User-agent: GPTBot\nDisallow: /\n\nUser-agent: CCBot\nDisallow: /a-meta\n"
        ),
        "/.well-known/tdmrep.json": (200, {"Content-Type": "application/json"}, json.dumps(tdmrep).encode()),
        "/a-header": page("tdm header", headers={"tdm-reservation": "1", "X-Robots-Tag": "noai, noimageai"}),
        "/a-meta": page("tdm meta", head="<meta name='tdm-reservation' content='1'><meta name=robots content=noai>"),
        "/a-json-1": page("tdm json"),
        "/a-free/1": page("tdm free"),
    }


@pytest.mark.crawl
@pytest.mark.parametrize("mode", ["honour", "record"])
def test_tdm_reservation_honoured_or_recorded(tmp_path: Path, run_env: dict[str, str], mode: str) -> None:
    with loop_site(tdm_site()) as site:
        db = tmp_path / "r.sqlite"
        paths = ["a-header", "a-meta", "a-json-1", "a-free/1"]
        settings = () if mode == "honour" else ("NEWSCLEAN_TDM=record",)
        counts = crawl(run_env, db, [f"{site.url}/{p}" for p in paths], *settings)
    assert site.paths().count("/.well-known/tdmrep.json") == 1
    stored = {
        url.rsplit("/", 1)[-1] if "free" not in url else "free": json.loads(r["signals"]) for url, r in rows(db).items()
    }
    common = ["content-signal:ai-train=no", "content-signal:search=yes", "robots:GPTBot"]
    if mode == "honour":
        assert set(stored) == {"free"}
        assert counts["tdm/reserved"] == 3
    else:
        assert set(stored) == {"a-header", "a-meta", "a-json-1", "free"}
        assert counts["tdm/recorded"] == 3
        assert set(stored["a-header"]) == {"tdm-reservation:1", "x-robots-tag:noai", "x-robots-tag:noimageai", *common}
        assert set(stored["a-meta"]) == {"tdm-reservation:1", "meta-robots:noai", "robots:CCBot", *common}
        assert set(stored["a-json-1"]) == {"tdm-reservation:1", "tdm-policy:https://example.org/policy.json", *common}
    assert set(stored["free"]) == set(common)  # tdm-reservation 0 for /a-free/*; AI signals still recorded


def test_signal_parsers() -> None:
    assert optout.header_signals({"X-Robots-Tag": "otherbot: noai", "TDM-Reservation": "0"}) == ["x-robots-tag:noai"]
    html = b"<html><head><meta content='1' name='TDM-Reservation'></head><body><meta name=robots content=noai>"
    assert optout.page_signals(html) == ["tdm-reservation:1"]  # only the <head> counts
    assert optout.content_signals(
        "User-agent: newsclean\nUser-agent: x\nContent-Signal: ai-input=no\n", ["newsclean"]
    ) == ["content-signal:ai-input=no"]
    rules = optout.parse_tdmrep(
        b'[{"location": "/x/*.html$", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}, 5]'
    )
    assert optout.tdmrep_for("http://h/x/a/b.html", rules) == ["tdm-reservation:1"]
    assert optout.tdmrep_for("http://h/x/a/b.html?q=1", rules) == []
    assert optout.parse_tdmrep(b"{not json") == []


# Politeness: minimum delay and blocks ------------------------------------------------------------


@pytest.mark.crawl
def test_min_delay_holds_against_autothrottle(tmp_path: Path, run_env: dict[str, str]) -> None:
    """AutoThrottle on (it lowered a site's 2 s delay to 0.25 s in four responses); the minimum
    delay holds at the server for every request, the first ones included."""
    answers: dict[str, Answer] = {"/robots.txt": robots("User-agent: *\nAllow: /\n")}
    answers |= {f"/a{i}": page(f"min delay {i}") for i in range(8)}
    with loop_site(answers) as site:
        crawl(
            run_env,
            tmp_path / "r.sqlite",
            [f"{site.url}/a{i}" for i in range(8)],
            "AUTOTHROTTLE_ENABLED=1",
            "DOWNLOAD_DELAY=0.05",
            "NEWSCLEAN_MIN_DELAY=0.5",
        )
    between = gaps(site.times())
    assert len(between) == 7
    assert min(between) >= 0.5 - ARRIVAL_JITTER, between
    assert sum(between) / len(between) >= 0.5 - 0.02, between  # arrival jitter evens out


@pytest.mark.crawl
def test_blocking_site_is_paused_and_reported_blocked(tmp_path: Path, run_env: dict[str, str]) -> None:
    answers: dict[str, Answer] = {"/robots.txt": robots("User-agent: *\nAllow: /\n")}
    answers |= {f"/a{i}": (403, HTML, b"<html><body>Forbidden</body></html>") for i in range(12)}
    with loop_site(answers) as site:
        db = tmp_path / "r.sqlite"
        counts = crawl(
            run_env, db, [f"{site.url}/a{i}" for i in range(12)], "NEWSCLEAN_BLOCK_STREAK=3", "DOWNLOAD_DELAY=0.2"
        )
    asked = [p for p in site.paths() if p.startswith("/a")]
    assert len(asked) == 3  # the requests waiting in the site's slot were refused too
    assert counts["blocked/status_403"] == 1
    assert counts["politeness/blocked_refused"] == 9
    assert counts["errors/blocked"] == 9
    proc = run(["newsclean", "check-sites", "--db", str(db)], run_env, check=False)
    assert proc.returncode == 1
    assert "article: blocked: the site answered 403 to NEWSCLEAN_BLOCK_STREAK requests in a row" in proc.stdout
    assert "no article" not in proc.stdout
    assert "looks broken" not in proc.stdout


@pytest.mark.crawl
def test_challenge_page_pauses_the_site_with_retry_after(tmp_path: Path, run_env: dict[str, str]) -> None:
    """A 429 with Retry-After is waited for and retried; a challenge page then pauses the site."""

    def limited(before: int) -> tuple[int, dict[str, str], bytes]:
        if before == 0:
            return 429, {"Retry-After": "1"}, b"slow down"
        return 403, {**HTML, "cf-mitigated": "challenge"}, b"<html><body>Just a moment...</body></html>"

    answers: dict[str, Answer] = {"/robots.txt": robots("User-agent: *\nAllow: /\n"), "/a0": limited}
    answers |= {f"/a{i}": page(f"challenge {i}") for i in range(1, 4)}
    with loop_site(answers) as site:
        db = tmp_path / "r.sqlite"
        counts = crawl(run_env, db, [f"{site.url}/a{i}" for i in range(4)], "CONCURRENT_REQUESTS=1")
    hits = [(t, p) for t, p, _ in site.hits if p == "/a0"]
    assert len(hits) == 2
    assert hits[1][0] - hits[0][0] >= 1.0 - 0.02
    assert counts["politeness/retry_after"] == 1
    assert counts["blocked/challenge"] == 1
    proc = run(["newsclean", "check-sites", "--db", str(db)], run_env, check=False)
    assert "article: blocked: a challenge page" in proc.stdout


def test_floor_is_the_largest_of_setting_site_and_crawl_delay() -> None:
    """A site's ``min_delay`` raises the floor on its own domains only; a Crawl-delay raises it on its host."""
    from scrapy.utils.test import get_crawler

    from newsclean.crawl.politeness import PolitenessMiddleware
    from newsclean.crawl.spider import NewsSpider
    from newsclean.sites import Site

    class Slow(NewsSpider):
        name = "slow"
        site = Site(name="slow", domains=("slow.example",), min_delay=0.7)

    crawler = get_crawler(Slow, {"NEWSCLEAN_MIN_DELAY": "0.2", "NEWSCLEAN_WORKERS": 0})
    crawler.spider = crawler._create_spider()
    polite = PolitenessMiddleware(crawler)
    assert polite.floor_for("https://www.slow.example/a") == 0.7
    assert polite.floor_for("https://other.example/a") == 0.2
    polite.set_crawl_delay("other.example", 1.5)
    assert polite.floor_for("https://other.example/a") == 1.5
    assert polite.floor_for("https://www.slow.example/a") == 0.7
