"""theguardian: every saved fixture re-extracts as expected. Filled by ``newsclean fixture save theguardian URL``."""

from __future__ import annotations

import pytest

from newsclean.fixtures import Fixture, differences, fixture_id, load_fixtures
from spiders.theguardian import SITE

FIXTURES = [f for f in load_fixtures(site="theguardian") if f.kind in ("article", "not_article")]


def test_theguardian_has_an_article_fixture() -> None:
    assert any(f.kind == "article" for f in FIXTURES), "save one: newsclean fixture save theguardian URL"


@pytest.mark.parametrize("fixture", FIXTURES, ids=fixture_id)
def test_theguardian_fixture(fixture: Fixture) -> None:
    assert SITE.name == "theguardian"
    assert not differences(fixture), "\n".join(differences(fixture))
