"""Scheduled crawls, for real: incremental runs, conditional requests, revisions, a crawl killed and
resumed, overlapping runs, run records and the breakage alarm."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsclean.fixtures import DEFAULT_ROOT, load_fixtures, serve
from newsclean.store import RUN_KEYS

from .conftest import ROOT
from .helpers import crawl_cmd, latest_run, rows, run

TRT_ARTICLES = sorted(f.expected["canonical_url"] for f in load_fixtures(site="trtworld") if f.kind == "article")


def _crawl_cmd(site: str, mirror: str, db: Path, *extra: str) -> list[str]:
    return [*crawl_cmd(site, mirror, db), *extra]


def _crawl(site: str, mirror: str, db: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl SITE`` with ``extra`` arguments; the test fails unless it exits 0."""
    return run(_crawl_cmd(site, mirror, db, *extra), env)


def _texts(db: Path) -> dict[str, str]:
    return {url: row["text"] for url, row in rows(db).items()}


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    """A copy of the shipped fixtures that a test may change."""
    return Path(shutil.copytree(DEFAULT_ROOT, tmp_path / "fixtures"))


@pytest.mark.crawl
def test_demo_twice_stores_and_fetches_nothing_new(tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "demo.sqlite"
    for _ in range(2):
        proc = subprocess.run(["newsclean", "demo", "--db", str(db)], env=run_env, capture_output=True, text=True,
                              timeout=180)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
    for line in proc.stdout.splitlines()[2:]:
        assert ": 0 new, 0 updated," in line
        assert "; 0 article pages and" in line
    runs = json.loads(subprocess.run(["newsclean", "runs", "--json", "--db", str(db)], env=run_env,
                                     capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert all(list(run) == list(RUN_KEYS) for run in runs)
    sites = {f.site for f in load_fixtures()}
    latest, first = runs[: len(sites)], runs[len(sites) :]
    assert {r["spider"] for r in latest} == sites
    assert all(r["new"] == 0 for r in latest)
    assert sum(r["new"] for r in first) == sum(1 for f in load_fixtures() if f.kind == "article")
    with sqlite3.connect(db) as conn:  # every unchanged feed or sitemap cost a 304 the second time
        not_modified = conn.execute("SELECT SUM(not_modified) FROM runs GROUP BY id > ? ORDER BY 1", (len(sites),))
        assert [n for (n,) in not_modified][-1] > 0


@pytest.mark.crawl
def test_changed_article_is_fetched_again_and_keeps_its_revision(
    fixtures_copy: Path, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db = tmp_path / "store.sqlite"
    with serve(fixtures_copy) as mirror:
        _crawl("trtworld", mirror, db, run_env)
    before = _texts(db)
    # The site corrects an article and its news sitemap dates the change.
    page = fixtures_copy / "trtworld" / "2024-12-23_snowfall-eastern-turkiye-villages.html"
    html = page.read_text(encoding="utf-8")
    first = html.split("<p>", 2)[1].split("</p>")[0]
    page.write_text(html.replace(first, first + " (Corrected.)", 1), encoding="utf-8")
    sitemap = fixtures_copy / "trtworld" / "news-sitemap.xml"
    url = "https://www.trtworld.com/article/b83f1e0a6d24"
    xml = sitemap.read_text(encoding="utf-8")
    entry = xml.index(f"<loc>{url}</loc>")
    end = xml.index("</url>", entry)
    sitemap.write_text(xml[:end] + "<lastmod>2099-01-01T00:00:00Z</lastmod>" + xml[end:], encoding="utf-8")
    with serve(fixtures_copy) as mirror:
        _crawl("trtworld", mirror, db, run_env)
    run = latest_run(db)
    assert (run["new"], run["updated"], run["article_pages"]) == (0, 1, 1)
    after = _texts(db)
    assert after[url] == before[url].replace(first, first + " (Corrected.)", 1)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT text FROM revisions WHERE canonical_url = ?", (url,)).fetchall() == [(before[url],)]


@pytest.mark.crawl
def test_refresh_fetches_every_article_again(mirror: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "store.sqlite"
    _crawl("trtworld", mirror, db, run_env)
    _crawl("trtworld", mirror, db, run_env)
    assert (latest_run(db)["article_pages"], latest_run(db)["skipped"]) == (0, len(TRT_ARTICLES))
    _crawl("trtworld", mirror, db, run_env, "-a", "refresh=1")
    run = latest_run(db)
    assert (run["article_pages"], run["new"], run["updated"], run["skipped"]) == (len(TRT_ARTICLES), 0, 0, 0)


@pytest.fixture
def slow_mirror() -> Iterator[str]:
    """The fixture server, answering each request after half a second."""
    with serve(delay=0.5) as url:
        yield url


def _wait_for_rows(db: Path, proc: subprocess.Popen[str], deadline: float = 60) -> int:
    end = time.monotonic() + deadline
    while time.monotonic() < end and proc.poll() is None:
        try:
            with sqlite3.connect(db) as conn:
                count = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        except sqlite3.OperationalError:
            count = 0
        if count:
            return int(count)
        time.sleep(0.1)
    raise AssertionError("the crawl stored nothing in time")


@pytest.mark.crawl
def test_killed_crawl_resumed_with_jobdir_stores_every_article_once(
    slow_mirror: str, mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    clean = tmp_path / "clean.sqlite"
    _crawl("trtworld", mirror, clean, run_env)
    db, jobdir = tmp_path / "store.sqlite", tmp_path / "job"
    cmd = _crawl_cmd("trtworld", slow_mirror, db, "-s", f"JOBDIR={jobdir}", "-s", "CONCURRENT_REQUESTS=1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    stored = _wait_for_rows(db, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < stored < len(TRT_ARTICLES), "the crawl was not caught mid-run"
    _crawl("trtworld", slow_mirror, db, run_env, "-s", f"JOBDIR={jobdir}", "-s", "CONCURRENT_REQUESTS=1")
    assert _texts(db) == _texts(clean)
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT end IS NOT NULL FROM runs ORDER BY id").fetchall()
    assert runs == [(0,), (1,)]  # the killed run's record shows it never finished


@pytest.mark.crawl
def test_second_run_of_a_spider_on_one_store_exits_at_once(
    slow_mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db = tmp_path / "store.sqlite"
    first = subprocess.Popen(_crawl_cmd("trtworld", slow_mirror, db), cwd=ROOT, env=run_env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for_lock(db.with_name(f"{db.name}.trtworld.lock"), first)
        started = time.monotonic()
        second = subprocess.run(_crawl_cmd("trtworld", slow_mirror, db), cwd=ROOT, env=run_env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert second.returncode != 0
        assert f"another crawl of 'trtworld' is running against {db}" in second.stderr
        assert time.monotonic() - started < 30
        # Another spider on the same store is not held back.
        other = subprocess.run(_crawl_cmd("themoscowtimes", slow_mirror, db), cwd=ROOT, env=run_env,
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        assert other.returncode == 0, other.stderr[-2000:]
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    expected = [f.expected["canonical_url"] for f in load_fixtures() if f.kind == "article"]
    assert sorted(_texts(db)) == sorted(u for u in expected if "trtworld" in u or "themoscowtimes" in u)


def _wait_for_lock(lock: Path, proc: subprocess.Popen[bytes], deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end and proc.poll() is None:
        if lock.exists() and lock.read_text().strip():
            return
        time.sleep(0.05)
    raise AssertionError("the first crawl never took its lock")


@pytest.mark.crawl
def test_robots_txt_is_obeyed(mirror: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "store.sqlite"
    # The Moscow Times' robots.txt disallows /search/ and URLs with utm parameters.
    urls = "https://www.themoscowtimes.com/search/?q=kursk,https://www.themoscowtimes.com/news?utm_source=x"
    _crawl("article", mirror, db, run_env, "-a", f"urls={urls}")
    run = latest_run(db)
    assert json.loads(run["errors"]) == {"robots": 2}
    assert run["pages_fetched"] == 1  # robots.txt alone


@pytest.mark.crawl
def test_broken_site_raises_the_alarm(fixtures_copy: Path, tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "store.sqlite"
    # The site ships a new layout: its article body and lead have other class names.
    for page in (fixtures_copy / "themoscowtimes").glob("2024-*.html"):
        html = page.read_text(encoding="utf-8").replace("article__content", "story-body")
        page.write_text(html.replace("article__intro", "story-lead"), encoding="utf-8")
    with serve(fixtures_copy) as mirror:
        proc = _crawl("themoscowtimes", mirror, db, run_env)
    assert latest_run(db)["alarm"] == "no article found in 4 article pages fetched"
    assert "themoscowtimes looks broken: no article found in 4 article pages fetched" in proc.stderr  # and says so
    check = subprocess.run(["newsclean", "check-sites", "--db", str(db)], env=run_env, capture_output=True, text=True)
    assert check.returncode == 1
    assert "themoscowtimes: no article found in 4 article pages fetched" in check.stdout


@pytest.mark.crawl
def test_healthy_sites_pass_the_check(mirror: str, tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "store.sqlite"
    _crawl("trtworld", mirror, db, run_env)
    check = subprocess.run(["newsclean", "check-sites", "--db", str(db)], env=run_env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("trtworld: ok")


def test_polite_defaults_and_contact_in_the_user_agent() -> None:
    from scrapy.settings import Settings

    from newsclean import settings as project
    from newsclean.crawl.sites import SITE_SPIDERS

    TRTWorldSpider = SITE_SPIDERS["trtworld"]  # noqa: N806 (a class)

    assert project.ROBOTSTXT_OBEY
    assert project.AUTOTHROTTLE_ENABLED
    assert project.CONCURRENT_REQUESTS_PER_DOMAIN <= 4
    assert project.USER_AGENT.startswith("newsclean/")
    settings = Settings()
    settings.setmodule(project, priority="project")
    settings.set("NEWSCLEAN_CONTACT", "mailto:desk@example.org", priority="cmdline")
    TRTWorldSpider.update_settings(settings)
    assert settings["USER_AGENT"] == f"{project.USER_AGENT} (+mailto:desk@example.org)"
    own = Settings()
    own.setmodule(project, priority="project")
    own.set("NEWSCLEAN_CONTACT", "mailto:desk@example.org", priority="cmdline")
    own.set("USER_AGENT", "my-own-agent", priority="cmdline")
    TRTWorldSpider.update_settings(own)
    assert own["USER_AGENT"] == "my-own-agent"  # a User-Agent given by the user is left alone


@pytest.mark.crawl
def test_generic_feed_spider_run_again_downloads_no_article(
    mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db = tmp_path / "store.sqlite"
    feed = "https://www.trtworld.com/feed/rss.xml"
    # Conditional requests off: the feed is read whole again, so every article link is looked up.
    for _ in range(2):
        _crawl("feed", mirror, db, run_env, "-s", "NEWSCLEAN_CONDITIONAL_ENABLED=0", "-a", f"feed={feed}")
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        first, second = (dict(r) for r in conn.execute("SELECT new, articles, skipped FROM runs ORDER BY id"))
    stored = rows(db)
    assert sorted(stored) == TRT_ARTICLES
    assert {row["site"] for row in stored.values()} == {"trtworld"}  # stored under the site, found by the feed spider
    assert first["new"] == len(TRT_ARTICLES)
    assert second == {"new": 0, "articles": 0, "skipped": len(TRT_ARTICLES)}
