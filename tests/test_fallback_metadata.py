"""fallback_metadata.read gives trafilatura's extract_metadata values for every field newsclean reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from trafilatura.metadata import extract_metadata

from newsclean.extraction import fallback_metadata
from newsclean.extraction.html import parse

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("title", "author", "url", "date", "description", "image", "categories", "tags")

# A page without JSON-LD or <meta> fields: every value comes from trafilatura's heuristics.
BARE = """<html><head><title>Storm closes roads - The Daily Example</title></head><body>
<article><div class="entry-meta"><a href="/category/weather/">Weather</a></div>
<h1>Storm closes roads across the region</h1>
<p class="byline">By <a rel="author" href="/staff/jane">Jane Smith</a></p>
<p>Published on 12 March 2024</p>
<p>Heavy snow closed roads across the region on Tuesday, officials said in a statement to reporters.</p>
<div class="tags"><a href="/tag/snow/">snow</a> <a href="/tag/roads/">roads</a></div>
</article></body></html>"""


def _pages() -> list[tuple[str, str]]:
    pages = [
        (p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(ROOT.glob("fixtures/*/*.html"))
    ]
    return [*pages, ("bare page", BARE)]


@pytest.mark.parametrize(("name", "html"), _pages(), ids=[name for name, _ in _pages()])
def test_every_field_is_trafilaturas(name: str, html: str) -> None:
    url = "https://news.example.com/2024/03/12/storm-closes-roads"
    want = extract_metadata(parse(html), url, None, False)
    got = fallback_metadata.read(parse(html), url)
    assert {f: getattr(got, f) for f in FIELDS} == {f: getattr(want, f) for f in FIELDS}, name


def test_the_bare_page_needs_the_heuristics() -> None:
    got = fallback_metadata.read(parse(BARE), "https://news.example.com/2024/03/12/storm-closes-roads")
    assert got.author == "Jane Smith"
    assert got.date == "2024-03-12"
    assert got.categories == ["Weather"]
    assert got.tags == ["snow", "roads"]


def test_fields_newsclean_has_are_not_looked_for() -> None:
    url = "https://news.example.com/2024/03/12/storm-closes-roads"
    got = fallback_metadata.read(parse(BARE), url, date=False, categories=False, tags=False)
    assert got.date is None
    assert not got.categories
    assert not got.tags
    assert got.author == "Jane Smith"
