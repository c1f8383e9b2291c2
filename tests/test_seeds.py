"""The two seed articles: their text is exactly the seed's body, with none of the boilerplate.

``tests/seeds/`` holds the seed texts as a naive scraper captured them; everything in them that is
not a body paragraph is page furniture or metadata, and must not reach ``text``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsclean.extraction import extract_article
from newsclean.fixtures import Fixture, load_fixtures

SEEDS = Path(__file__).parent / "seeds"
CASES = {
    "000_08a6bc91dbefb8a2.txt": "themoscowtimes/2024-12-27_ukraine-captured-north-korean-soldier.html",
    "002_4e486417e3d2c4cc.txt": "trtworld/2024-12-30_north-korean-soldier-captured.html",
}
# Furniture seen in the seeds, never allowed anywhere in the text.
FURNITURE = ["Explore", "RECOMMENDED", "Related article", "1 min read", "00:00", "aaA", "Original url", "SOURCE:"]


def _fixture(name: str) -> Fixture:
    return next(f for f in load_fixtures() if f"{f.site}/{f.body_path.name}" == name)


@pytest.mark.parametrize(("seed", "page"), CASES.items())
def test_text_is_the_seed_body_and_nothing_else(seed: str, page: str) -> None:
    fixture = _fixture(page)
    article = extract_article(fixture.body(), fixture.url)
    assert article is not None
    paragraphs = article.text.split("\n\n")
    seed_lines = [" ".join(line.split()) for line in (SEEDS / seed).read_text(encoding="utf-8").splitlines()]
    # Every paragraph of the text is a line of the seed (the TRT seed's first one behind the "aa" widget).
    for paragraph in paragraphs:
        assert any(line == paragraph or line == "aa" + paragraph for line in seed_lines), paragraph
    # Every other seed line is boilerplate or metadata: not a paragraph of the text.
    for line in seed_lines:
        if line and line not in paragraphs and line.removeprefix("aa") not in paragraphs:
            assert line not in article.text, f"boilerplate kept: {line!r}"
    for furniture in FURNITURE:
        assert furniture not in article.text
    assert article.text == fixture.expected["text"]


def test_seed_metadata_goes_into_fields() -> None:
    tmt = _fixture(CASES["000_08a6bc91dbefb8a2.txt"])
    article = extract_article(tmt.body(), tmt.url)
    assert article is not None
    assert (article.source, article.authors, article.published[:10]) == ("AFP", [], "2024-12-27")
    assert article.title == "Ukraine Captured North Korean Soldier Fighting Alongside Russia, South Korea Says"
    assert "t.me/stranaua" not in article.text
    assert "photo purportedly" not in article.text

    trt = _fixture(CASES["002_4e486417e3d2c4cc.txt"])
    article = extract_article(trt.body(), trt.url)
    assert article is not None
    assert (article.source, article.section, article.published[:10]) == (
        "TRT World & Agencies",
        "Politics",
        "2024-12-30",
    )
    assert article.title == "North Korean soldier fighting for Russia captured in Ukraine"
    assert article.subtitle.startswith("It comes after a statement")
    assert not article.text.startswith(article.subtitle)
    # The caption repeats a body sentence: the caption goes, the body paragraph stays, once.
    assert article.text.count("This marks the first official confirmation") == 1
    assert "/ AP" not in article.text
