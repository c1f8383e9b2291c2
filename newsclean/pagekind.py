"""Is an extracted "article" really one? Section fronts and soft 404s (an error page served with
status 200) give text too: headlines and menus, or "Sorry, we couldn't find that page". This module
tells them apart by what they are, on any site: no site's words, no URL patterns.

- **Soft 404**: the page's ``<title>`` or the extracted title (the headline) says the page was
  not found (``404``, ``page not found``, ``couldn't find that page``, ``no longer available``...),
  and the text is short, as error pages are.
- **Listing** (a section front, a tag page, a page of navigation): most of the extracted text is
  link text (each line a link's text, part of a card-wide link's, or mostly a link's label), or the
  page repeats one teaser structure (the same link-holding element many times over) and 40% of the
  text is such links. Only texts made mostly of headline-like lines are checked.

Plain functions on text; nothing here imports Scrapy or the extraction code.
"""

from __future__ import annotations

import logging
import re

import lxml.html
from lxml.etree import ParserError

from newsclean.article import Article

logger = logging.getLogger(__name__)

SOFT_404 = "soft_404"
LISTING = "listing"

# An error page says so in its title or headline; anchored on words about a missing page, so that
# an article about, say, errors does not match.
_NOT_FOUND = re.compile(
    r"^\W*404\s*(?:$|[-:|!.\u2013\u2014])|\berror\s*404\b|\b404\s*(?:error|[-:|\u2013\u2014]\s*(?:page|not))"
    r"|\b(?:page|article|content|story|file|resource|url)s?\s+(?:was\s+|is\s+|could\s+)?not\s+(?:be\s+)?found\b"
    r"|\bnot\s+found\s*$"
    r"|\b(?:couldn.?t|could\s+not|can.?t|cannot|unable\s+to)\s+(?:find|locate)\s+(?:that|this|the|your)\s+(?:page|article|story|content)"
    r"|\bpage\s+(?:you\s+(?:are|were|re)\s+looking\s+for|you\s+requested)"
    r"|\b(?:page|article|story)\s+(?:does\s+not|doesn.?t|no\s+longer)\s+exists?\b"
    r"|\b(?:page|article|story|content)\s+(?:is\s+)?no\s+longer\s+available\b",
    re.IGNORECASE,
)
SOFT_404_MAX_WORDS = 400
"""An error page's text is short; a longer text with such a title is taken for an article."""
LINK_SHARE = 0.6
"""Share of the text's words in lines that are each the whole text of a link: above it, a listing."""
TEASER_SHARE = 0.4
TEASER_REPEATS = 8
"""A listing also when this many sibling elements of one shape each hold a link whose text is a
line of the text, and those lines hold TEASER_SHARE of its words."""
MAX_CHARS = 3_000_000
"""Pages longer than this are not judged (the judgement would cost more than it is worth)."""


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


_TITLE = re.compile(r"<title\b[^>]*>([^<]{0,500})", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\u2026\"'\u201d\u2019)\]]$")
HEADLINE_WORDS = 20
HEADLINE_SHARE = 0.4
"""Only a text whose lines are mostly headline-like (short, no closing punctuation) is checked for
links: the check parses the page, which an ordinary article does not need."""


def page_kind(html: str, article: Article) -> str | None:
    """``"soft_404"`` or ``"listing"`` when ``article``, extracted from ``html``, is not an article;
    None when it is, or cannot be judged. Never raises: a page is never lost to this check."""
    try:
        return _kind(html, article)
    except Exception:  # fail open: keep the article
        logger.exception("page kind check failed")
        return None


def _kind(html: str, article: Article) -> str | None:
    if _soft_404(html, article):
        return SOFT_404
    if not html or len(html) > MAX_CHARS or not _headline_like(article):
        return None
    try:
        tree = lxml.html.document_fromstring(html.replace("\x00", ""))
    except (ParserError, ValueError):
        return None
    return LISTING if _listing(tree, article) else None


def _headline_like(article: Article) -> bool:
    lines = [line.strip() for line in article.text.split("\n") if line.strip()]
    words = sum(len(line.split()) for line in lines)
    short = sum(
        len(line.split()) for line in lines if len(line.split()) <= HEADLINE_WORDS and not _SENTENCE_END.search(line)
    )
    return bool(words) and short / words >= HEADLINE_SHARE


def _soft_404(html: str, article: Article) -> bool:
    if article.word_count > SOFT_404_MAX_WORDS:
        return False
    titles = [article.title]
    found = _TITLE.search(html[:200_000])
    if found:
        titles.append(found.group(1))
    return any(_NOT_FOUND.search(" ".join(t.split())) for t in titles if t)


def _link_texts(tree: lxml.html.HtmlElement) -> dict[str, list[lxml.html.HtmlElement]]:
    """Each link's text, and its ``aria-label`` or ``title`` (a card-wide link often has no text of its
    own, its headline beside it), normalised: the links that carry it."""
    texts: dict[str, list[lxml.html.HtmlElement]] = {}
    for a in tree.iter("a"):
        for text in (a.text_content(), a.get("aria-label") or "", a.get("title") or ""):
            text = _norm(text)
            if text:
                texts.setdefault(text, []).append(a)
    return texts


def _linked(line: str, exact: dict[str, list[lxml.html.HtmlElement]], blob: str, labels: list[str]) -> bool:
    """True when ``line`` is link text: a link's whole text, part of one (a card-wide link holding the
    headline and teaser), or mostly one long link label (a kicker glued to the headline)."""
    if line in exact or line in blob:
        return True
    return any(len(label) >= 0.6 * len(line) and label in line for label in labels)


def _listing(tree: lxml.html.HtmlElement, article: Article) -> bool:
    lines = [_norm(p) for p in article.text.split("\n") if p.strip()]
    words = sum(len(line.split()) for line in lines)
    if not words:
        return False
    anchors = _link_texts(tree)
    blob = "\x00".join(anchors)  # a line holds no NUL, so it never matches across two links
    labels = [text for text in anchors if len(text.split()) >= 4]
    linked = [line for line in lines if _linked(line, anchors, blob, labels)]
    linked_words = sum(len(line.split()) for line in linked)
    if linked_words / words > LINK_SHARE:
        return True
    if linked_words / words < TEASER_SHARE:
        return False
    # Repeated teaser structure: the links of those lines sit in siblings of one shape (cards).
    shapes: dict[tuple[object, str, str], int] = {}
    for line in linked:
        for a in anchors.get(line, ()):
            card = a.getparent()
            while card is not None and card.getparent() is not None and len(card.getparent()) < 2:
                card = card.getparent()
            if card is None or card.getparent() is None:
                continue
            key = (card.getparent(), str(card.tag), card.get("class", ""))
            shapes[key] = shapes.get(key, 0) + 1
    return max(shapes.values(), default=0) >= TEASER_REPEATS
