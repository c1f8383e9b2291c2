"""Article HTML that a page ships only inside a script, for the browser to render.

Pages built with client-side frameworks (Next.js, React Query hydration, Nuxt, React server
components) sometimes print no article paragraphs in their markup at all: the article's HTML travels
as a JSON string in an inline ``<script>`` (``"\\u003cp\\u003e..."``), once or twice escaped. A reader
sees the article; an extractor that reads only the markup sees an empty page. :func:`article_html`
finds the largest such fragment, read only when the page's own paragraphs hold (almost) no running
text, so a page that prints its article is never affected.
"""

from __future__ import annotations

import json
import re

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

# A JSON string literal (escaped characters included); possessive: linear time.
_STRING = re.compile(r'"((?:[^"\\]++|\\.)*+)"')
MIN_STRING_CHARS = 200
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
_ESCAPED_PARAGRAPH = re.compile(r"\\+u003cp[\s\\>]", re.IGNORECASE)
_SCRIPTS = lxml.etree.XPath("//script[not(@src)][not(@type='application/ld+json')]/text()")
# Work is bounded: at most this many characters of inline script are scanned, two levels of escaping.
MAX_SCRIPT_CHARS = 5_000_000
MAX_DEPTH = 2
# A fragment counts when its paragraphs hold at least this much text.
MIN_FRAGMENT_CHARS = 400


def _fragments(text: str, depth: int) -> list[str]:
    """HTML fragments (with paragraphs) held in the JSON strings of ``text``."""
    found: list[str] = []
    for match in _STRING.finditer(text):
        raw = match.group(1)
        if len(raw) < MIN_STRING_CHARS or (not _ESCAPED_PARAGRAPH.search(raw) and not _PARAGRAPH.search(raw)):
            continue
        try:
            value = json.loads(f'"{raw}"')
        except ValueError:
            continue
        if _PARAGRAPH.search(value):
            found.append(value)
        elif depth < MAX_DEPTH and _ESCAPED_PARAGRAPH.search(value):
            found.extend(_fragments(value, depth + 1))
    return found


def _paragraph_text(fragment: str) -> int:
    try:
        tree = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return 0
    return sum(len(" ".join(p.text_content().split())) for p in tree.iter("p"))


def article_html(tree: HtmlElement) -> str:
    """The largest HTML fragment with paragraphs that the page's inline scripts carry as a JSON
    string, or "" when none holds :data:`MIN_FRAGMENT_CHARS` of paragraph text."""
    budget = MAX_SCRIPT_CHARS
    best, best_chars = "", 0
    for script in _SCRIPTS(tree):
        if budget <= 0:
            break
        budget -= len(script)
        if not _ESCAPED_PARAGRAPH.search(script):
            continue
        for fragment in _fragments(str(script), 1):
            chars = _paragraph_text(fragment)
            if chars > best_chars:
                best, best_chars = fragment, chars
    return best if best_chars >= MIN_FRAGMENT_CHARS else ""


def restore(tree: HtmlElement) -> bool:
    """Append the article a script carries (:func:`article_html`) to the page's body as an
    ``<article>``; True when one was found."""
    fragment = article_html(tree)
    body = tree.find("body")
    if not fragment or body is None:
        return False
    article = lxml.html.fragment_fromstring(fragment, create_parent="article")
    body.append(article)
    return True
