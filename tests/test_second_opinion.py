"""trafilatura's second opinion (readability, jusText) is asked where it can change the text, and only
newsclean's own calls skip it elsewhere."""

from __future__ import annotations

import inspect
from typing import Any

import lxml.html
import pytest
import trafilatura
import trafilatura.core

from newsclean.extraction import core, extract, second_opinion

SENTENCE = "The council voted on Tuesday to approve the new budget for schools and roads in the district"


def _paras(n: int) -> str:
    return "".join(f"<p>Part {i}: {SENTENCE}, officials said in a statement to reporters.</p>" for i in range(n))


def _page(body: str) -> str:
    return (
        "<html><head><title>Budget approved</title></head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<main>{body}</main><footer><p>Contact us</p></footer></body></html>"
    )


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of trafilatura's own texts that its comparison was run on."""
    seen: list[int] = []
    original = trafilatura.core.compare_extraction

    def recording(cleaned: Any, raw: Any, body: Any, text: str, options: Any) -> tuple[Any, str]:
        seen.append(len(text))
        return original(cleaned, raw, body, text, options)

    monkeypatch.setattr(trafilatura.core, "compare_extraction", recording)
    return seen


def test_the_gate_replaces_the_cascade_step_it_was_written_for() -> None:
    """The gate re-states trafilatura's extractor-then-comparison step: a trafilatura whose step
    changed (another upgrade) must be looked at again, not silently gated."""
    step = trafilatura.core._extract_and_compare
    assert hasattr(step, "newsclean_original")
    source = " ".join(inspect.getsource(step.newsclean_original).split())
    assert "postbody, temp_text = extract_content(cleaned_tree, options)" in source
    assert (
        "if not options.fast: postbody, temp_text = compare_extraction(cleaned_tree_backup, copy(tree), "
        "postbody, temp_text, options) return postbody, temp_text" in source
    )


def _body(html: str) -> Any:
    return lxml.html.fragment_fromstring(html, create_parent="body")


def test_an_article_in_paragraphs_skips_the_comparison_in_newsclean_only(comparisons: list[int]) -> None:
    page = _page(f"<article>{_paras(8)}</article>")
    result = extract(page, "https://news.example.com/2024/01/02/budget")
    assert result.article is not None
    assert "Part 7:" in result.article.text
    assert comparisons == []
    trafilatura.bare_extraction(page, include_comments=False)  # plain trafilatura: as it is
    assert len(comparisons) == 1
    assert comparisons[0] > 0


def test_an_article_laid_out_in_tables_gets_the_comparison(comparisons: list[int]) -> None:
    cells = "".join(f"<table><tr><td>Cell {i}: {SENTENCE}, officials said.</td></tr></table>" for i in range(6))
    result = extract(_page(f"<article>{cells}<p>{SENTENCE}.</p></article>"), "https://news.example.com/a/b")
    assert comparisons, "more tables than paragraphs: trafilatura's text may be replaced"
    assert result.article is not None
    assert "Cell 5:" in result.article.text


@pytest.mark.parametrize(
    ("body", "text", "running", "expected"),
    [
        (f"<p>{SENTENCE}</p>" * 6, "x" * 600, 1000, False),  # most of the running text, in paragraphs
        (f"<p>{SENTENCE}</p>" * 6, "x" * 400, 1000, True),  # under half of it: readability may find more
        (f"<p>{SENTENCE}</p>", "x" * 100, 100, True),  # under trafilatura's minimum size
        (f"<div>{SENTENCE}</div>" * 6, "x" * 600, 600, True),  # no text in paragraphs
        (f"<table><tr><td>{SENTENCE}</td></tr></table>" * 3 + f"<p>{SENTENCE}</p>", "x" * 600, 600, True),
    ],
)
def test_when_the_comparison_is_needed(body: str, text: str, running: int, expected: bool) -> None:
    page = lxml.html.fromstring("<html><body><p>x</p></body></html>")
    assert second_opinion.needed(_body(body), text, page, lambda _tree: running, 250) is expected


def test_the_gate_is_installed_once() -> None:
    gate = trafilatura.core._extract_and_compare
    second_opinion.install()
    assert trafilatura.core._extract_and_compare is gate
    assert not hasattr(gate.newsclean_original, "newsclean_original")
    assert core.TRAFILATURA_OPTIONS.get("fast") is None  # the rest of trafilatura's cascade runs


def test_running_text_is_counted_whole_or_until_enough() -> None:
    page = lxml.html.fromstring(_page(_paras(10) + "<p>Short line.</p>"))
    whole = core._paragraph_chars(page)
    assert whole == 10 * len(f"Part 0: {SENTENCE}, officials said in a statement to reporters.")
    assert core._paragraph_chars(page, enough=whole + 1) == whole  # never reached: the whole count
    part = core._paragraph_chars(page, enough=150)
    assert 150 <= part < whole
