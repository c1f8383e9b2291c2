"""trafilatura's second opinion, asked only where it can change the text.

After its own extractor, trafilatura runs readability (and, on a short or unclean text, jusText) on
every page and keeps their text instead of its own when its own is empty, structurally deficient
(no text in paragraphs, more tables than paragraphs), unclean (jusText) or less than half of
readability's. That costs a tenth of newsclean's extraction, and on the 215 pages of the two
development sets it changed the text of 4: three where trafilatura's own text was empty, one with
more tables than paragraphs.

:func:`install` replaces the step of trafilatura's cascade that runs its extractor and then the
comparison (``trafilatura.core._extract_and_compare``, three lines) by one that, inside :func:`gated`
(newsclean's own calls of trafilatura), skips the comparison when trafilatura's text shows none of
those signs and holds at least :data:`MIN_SHARE` of the page's running text (paragraphs of
``MIN_PARAGRAPH_CHARS`` or more), so that readability, which reads from the same paragraphs, cannot
find twice as much. A skipped comparison also spares the copy of the page's tree that trafilatura
makes for it (half a millisecond a page). Everywhere else (a plain trafilatura call, a benchmark's
baseline) trafilatura runs as it is. trafilatura is pinned (``constraints.txt``); the tests check that
the step still has the shape this module replaces.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from copy import copy
from typing import Any

import trafilatura.core
from lxml.html import HtmlElement
from trafilatura.external import SANITIZED_XPATH

MIN_SHARE = 0.5

# While newsclean's own trafilatura call runs: how to count a tree's running-text characters.
_RUNNING_TEXT: contextvars.ContextVar[Callable[[Any], int] | None] = contextvars.ContextVar(
    "running_text", default=None
)


def needed(body: Any, text: str, page: Any, running_text: Callable[[Any], int], min_extracted_size: int) -> bool:
    """True when trafilatura's comparison could replace ``text`` (its own, from ``body``) by another
    extractor's text of ``page`` (the tree readability reads)."""
    if len(text) < min_extracted_size or bool(body.xpath(SANITIZED_XPATH)):
        return True
    if not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p")):
        return True
    return len(text) < MIN_SHARE * running_text(page)


def _gate(original: Callable[..., tuple[Any, str]]) -> Callable[..., tuple[Any, str]]:
    def _extract_and_compare(cleaned_tree: Any, cleaned_tree_backup: Any, tree: Any, options: Any) -> tuple[Any, str]:
        running = _RUNNING_TEXT.get()
        if running is None or options.fast:
            return original(cleaned_tree, cleaned_tree_backup, tree, options)
        body, text = trafilatura.core.extract_content(cleaned_tree, options)
        if not needed(body, text, tree, running, options.min_extracted_size):
            return body, text
        return trafilatura.core.compare_extraction(cleaned_tree_backup, copy(tree), body, text, options)

    _extract_and_compare.newsclean_original = original  # type: ignore[attr-defined]
    return _extract_and_compare


def install() -> None:
    """Put the gate into trafilatura's cascade (once per process)."""
    if not hasattr(trafilatura.core._extract_and_compare, "newsclean_original"):
        trafilatura.core._extract_and_compare = _gate(trafilatura.core._extract_and_compare)


@contextlib.contextmanager
def gated(running_text: Callable[[HtmlElement], int]) -> Iterator[None]:
    """trafilatura calls inside skip the comparison where it cannot change their text; ``running_text``
    counts the characters of a page's running text."""
    token = _RUNNING_TEXT.set(running_text)
    try:
        yield
    finally:
        _RUNNING_TEXT.reset(token)
