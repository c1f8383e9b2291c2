"""End to end: ``scrapy crawl`` as a real subprocess against the loopback fixture server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from newsclean.article import ARTICLE_FIELDS
from newsclean.fixtures import load_fixtures
from newsclean.registry import known_sites

from .helpers import crawl_cmd, rows, run

pytestmark = pytest.mark.crawl

SITES = sorted(known_sites())  # every site spider: a new site is crawled end to end too


@pytest.mark.parametrize("site", SITES)
def test_scrapy_crawl_stores_every_article_fixture(
    site: str, mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db, jsonl = tmp_path / "store.sqlite", tmp_path / "articles.jsonl"
    run([*crawl_cmd(site, mirror, db), "-O", str(jsonl)], run_env)
    expected = {f.expected["canonical_url"]: f.expected for f in load_fixtures(site=site) if f.kind == "article"}
    stored = rows(db)
    assert set(stored) == set(expected)
    for url, want in expected.items():
        row = stored[url]
        assert list(row) == list(ARTICLE_FIELDS)
        for name, value in want.items():
            column = json.loads(row[name]) if isinstance(value, list) else row[name]
            assert column == value, f"{url}: column {name}"
        assert row["fetched_at"]
        assert row["word_count"] == len(want["text"].split())
    exported = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert sorted(a["canonical_url"] for a in exported) == sorted(expected)


def test_demo_crawls_every_site_and_summarises(tmp_path: Path, run_env: dict[str, str]) -> None:
    db = tmp_path / "demo.sqlite"
    proc = subprocess.run(
        ["newsclean", "demo", "--db", str(db)], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = {site: sum(1 for f in load_fixtures(site=site) if f.kind == "article") for site in SITES}
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT site, COUNT(*) FROM articles GROUP BY site").fetchall())
    assert stored == counts
    for site in SITES:
        assert f"{site}: {counts[site]} new, 0 updated, 0 already stored" in proc.stdout
        assert f"; {counts[site]} in store; {counts[site]} article pages" in proc.stdout
    # Each site's feed links one article that has gone: counted as an error, the crawl goes on.
    assert proc.stdout.count('errors {"http_404": 1}') == len(SITES)
    assert str(db.resolve()) in proc.stdout
