"""Extraction over every saved page, field by field, without Scrapy."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from newsclean.extraction import extract
from newsclean.fixtures import Fixture, load_fixtures

FIXTURES = load_fixtures()
ARTICLES = [f for f in FIXTURES if f.kind == "article"]
NOT_ARTICLES = [f for f in FIXTURES if f.kind == "not_article"]


def _id(fixture: Fixture) -> str:
    return f"{fixture.site}/{fixture.body_path.name}"


@pytest.mark.parametrize("fixture", ARTICLES, ids=_id)
def test_article_fields(fixture: Fixture) -> None:
    result = extract(fixture.body(), fixture.url)
    assert result.article is not None, f"no article: {result.reason}"
    got = asdict(result.article)
    changed = {
        name: {"expected": want, "got": got.get(name)}
        for name, want in fixture.expected.items()
        if got.get(name) != want
    }
    assert not changed, f"{_id(fixture)}: fields changed: {sorted(changed)}\n{changed}"


@pytest.mark.parametrize("fixture", ARTICLES, ids=_id)
def test_article_derived_fields(fixture: Fixture) -> None:
    article = extract(fixture.body(), fixture.url).article
    assert article is not None
    assert article.word_count == len(fixture.expected["text"].split())
    assert len(article.content_hash) == 64
    assert 0.5 <= article.language_probability <= 1.0
    assert article.rules == fixture.site
    assert "\n\n\n" not in article.text
    assert article.text == article.text.strip()


@pytest.mark.parametrize("fixture", NOT_ARTICLES, ids=_id)
def test_not_articles_give_none_with_reason(fixture: Fixture) -> None:
    result = extract(fixture.body(), fixture.url)
    assert result.article is None
    assert fixture.expected["reason"] in result.reason


def test_every_site_has_article_fixtures() -> None:
    assert {f.site for f in ARTICLES} >= {"themoscowtimes", "trtworld"}
