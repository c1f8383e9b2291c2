"""Meta-tests: every spider is covered by fixtures, every fixture says what it expects, the README agrees."""

from __future__ import annotations

import json
import re

import pytest

from newsclean.cli.sites import spider_names
from newsclean.fixtures import Fixture, dump_json, empty_fields, fixture_id, load_fixtures
from newsclean.registry import known_sites

from .conftest import ROOT

FIXTURES = load_fixtures()
SPIDERS = known_sites()


def _of(site: str, *kinds: str) -> list[Fixture]:
    return [f for f in FIXTURES if f.site == site and f.kind in kinds]


@pytest.mark.parametrize("site", sorted(SPIDERS))
def test_every_spider_has_an_article_fixture(site: str) -> None:
    assert _of(site, "article"), f"no article fixture for {site}: newsclean fixture save {site} URL"


@pytest.mark.parametrize("site", sorted(SPIDERS))
def test_every_spider_has_a_feed_or_sitemap_fixture(site: str) -> None:
    assert _of(site, "feed", "sitemap"), f"no feed or sitemap fixture for {site} under fixtures/{site}/"


def test_every_fixture_folder_belongs_to_a_spider() -> None:
    assert {f.site for f in FIXTURES} <= set(SPIDERS)


@pytest.mark.parametrize("fixture", FIXTURES, ids=fixture_id)
def test_no_expected_field_is_empty_unless_marked(fixture: Fixture) -> None:
    marked = fixture.meta.get("empty", [])
    empty = empty_fields(fixture.expected)
    unmarked = sorted(set(empty) - set(marked))
    assert not unmarked, f'{fixture_id(fixture)}: empty but not listed in "empty": {unmarked}'
    stale = sorted(set(marked) - set(empty))
    assert not stale, f'{fixture_id(fixture)}: listed in "empty" but not empty (or not expected): {stale}'


@pytest.mark.parametrize("fixture", FIXTURES, ids=fixture_id)
def test_fixture_json_is_stored_canonically(fixture: Fixture) -> None:
    path = fixture.body_path.with_suffix(".json")
    assert path.read_text(encoding="utf-8") == dump_json(json.loads(path.read_text(encoding="utf-8"))), (
        f"{path}: store it with sorted keys, indent 2, UTF-8 characters and a final newline"
    )


@pytest.mark.parametrize("site", sorted(SPIDERS))
def test_article_url_pattern_matches_articles_and_rejects_listings(site: str) -> None:
    spider = SPIDERS[site]
    pattern = re.compile(spider.article_url)
    missed = [f.url for f in _of(site, "article") if not pattern.search(f.url)]
    assert not missed, f"{site}.article_url does not match its article fixtures: {missed}"
    pages = [f.url for f in _of(site, "listing", "feed", "sitemap", "robots")]
    pages += [*spider.feeds, *spider.sitemaps, *spider.listings]
    taken = [url for url in pages if pattern.search(url)]
    assert not taken, f"{site}.article_url matches listing, feed or sitemap pages: {taken}"


def _readme_sites() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Sites\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # after header and rule
    return [re.sub(r"[`\s]", "", row.split("|")[1]) for row in rows]


def test_readme_sites_table_lists_exactly_the_spiders() -> None:
    listed = _readme_sites()
    assert len(listed) == len(set(listed)), f"README lists a spider twice: {listed}"
    assert set(listed) == set(spider_names()), "README's Sites table and the spiders/ package disagree"


@pytest.mark.parametrize("site", sorted(SPIDERS))
def test_a_site_is_one_small_file_that_names_the_site_once(site: str) -> None:
    source = (ROOT / "spiders" / f"{site}.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 60, f"spiders/{site}.py: keep a site under 60 lines"
    assert len(re.findall(rf"[\"']{site}[\"']", source)) == 1, f"spiders/{site}.py names its site more than once"
    domains = SPIDERS[site].domains
    assert all(len(re.findall(rf"[\"']{re.escape(d)}[\"']", source)) == 1 for d in domains), "a domain stated twice"


def test_readme_settings_table_lists_exactly_the_declared_settings() -> None:
    from newsclean import config

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(NEWSCLEAN_[A-Z_]+)` \|", section, flags=re.M)
    assert sorted(listed) == sorted(s.name for s in config.ALL), "README and newsclean/config.py disagree"
