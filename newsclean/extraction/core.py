"""``extract_article``: one HTML page in, one clean :class:`~newsclean.article.Article` out."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml.html import HtmlElement
from readability import Document

from newsclean import dates
from newsclean.article import Article
from newsclean.extraction import clean, metadata, stopwords, xpaths
from newsclean.extraction.html import decode, node_text, parse
from newsclean.extraction.language import detect_language
from newsclean.extraction.result import Extraction
from newsclean.registry import site_for_url
from newsclean.sites import GENERIC, Site
from newsclean.urls import canonicalize

logger = logging.getLogger(__name__)
stopwords.install()  # trafilatura's jusText fallback: 1.2 MB of stop words instead of 33 MB

LIST_FIELDS = frozenset({"authors", "tags"})
# Options measured on real pages: comments are never the article (+0.007 F1 with them off).
TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True}
# The second extractor runs only when trafilatura's text is under SHORT_SHARE of the page's running
# text (paragraphs of MIN_PARAGRAPH_CHARS or more) or LONGER_BY times shorter than the JSON-LD
# articleBody; its text replaces trafilatura's when LONGER_BY times longer and holding MIN_CONTAINED
# of trafilatura's text.
MIN_PARAGRAPH_CHARS = 80
SHORT_SHARE = 0.5
LONGER_BY = 1.5
MIN_CONTAINED = 0.8


def extract_article(
    html: str | bytes, url: str | None = None, rules: Site | None = None, *, encoding: str | None = None
) -> Article | None:
    """The article in ``html``, or None (with the reason logged) when the page holds none.

    ``rules`` default to those of the site ``url`` belongs to. ``encoding``: the charset the HTTP
    response declared, if any, for ``html`` given as bytes. Never raises.
    """
    result = extract(html, url, rules, encoding=encoding)
    if result.article is None:
        logger.info("no article at %s: %s", url or "<input>", result.reason)
    return result.article


def extract(
    html: str | bytes, url: str | None = None, rules: Site | None = None, *, encoding: str | None = None
) -> Extraction:
    """Like :func:`extract_article`, keeping the reason for a miss and every removed block."""
    try:
        if rules is None:
            rules = site_for_url(url)
        return _extract(decode(html, encoding), url, rules)
    except Exception as exc:  # a page must never stop a crawl; the reason travels with the result
        logger.exception("extraction failed for %s", url or "<input>")
        return Extraction(None, f"extraction failed: {type(exc).__name__}: {exc}")


def _site_fields(tree: HtmlElement, rules: Site) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, xpath in rules.fields.items():
        values = [v for v in (node_text(n) for n in tree.xpath(xpath)) if v]
        if values:
            found[name] = list(dict.fromkeys(values)) if name in LIST_FIELDS else values[0]
    return found


def _narrow(tree: HtmlElement, rules: Site) -> HtmlElement | None:
    """A new document holding the page's head and only the body parts ``rules.body`` select."""
    if not rules.body:
        return None
    parts = [n for n in tree.xpath(" | ".join(rules.body)) if isinstance(n, HtmlElement)]
    if not parts:
        return None
    doc = lxml.html.document_fromstring("<html><head></head><body><article></article></body></html>")
    head = tree.find("head")
    if head is not None:
        doc.replace(doc.find("head"), copy.deepcopy(head))
    container = doc.find("body/article")
    for part in parts:
        node = copy.deepcopy(part)
        node.tail = None
        if len(parts) > 1:
            # trafilatura looks for its own content block inside what it is given: one part (say
            # div.article__content) would win by its class name and the others (a lead) be dropped.
            node.attrib.pop("class", None)
            node.attrib.pop("id", None)
        if node.tag == "div" and (node.text or "").strip() and not node.xpath(xpaths.BLOCKS):
            node.tag = "p"  # a lead printed as bare text in a div: trafilatura skips such divs
        container.append(node)
    return doc


def _body_lines(tree: HtmlElement, url: str | None) -> tuple[list[str], Any]:
    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=True, **TRAFILATURA_OPTIONS)
    return _lines(getattr(doc, "text", None) or ""), doc


def _lines(text: str) -> list[str]:
    """trafilatura's text as body lines, whitespace normalised.

    trafilatura marks list items with "- "; in newsclean's text each item is a paragraph of its own.
    """
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line.removeprefix("- ") for line in lines if line and line != "-"]


def _paragraph_chars(tree: HtmlElement) -> int:
    """Characters in the page's paragraphs long enough to be running text."""
    lengths = (len(node_text(p)) for p in tree.xpath(xpaths.PARAGRAPHS))
    return sum(n for n in lengths if n >= MIN_PARAGRAPH_CHARS)


def _looks_short(lines: list[str], paragraph_chars: int, json_ld_body: str) -> bool:
    """True when the text holds much less than the page's running text or its JSON-LD articleBody."""
    chars = sum(len(line) for line in lines)
    return chars < SHORT_SHARE * paragraph_chars or chars * LONGER_BY < len(json_ld_body)


def _readability_lines(tree: HtmlElement, url: str | None) -> list[str]:
    """Body lines of the block readability-lxml picks, cut into lines by trafilatura."""
    summary = Document(lxml.html.tostring(tree, encoding="unicode")).summary()
    return _lines(trafilatura.extract(summary, url=url, **TRAFILATURA_OPTIONS) or "")


def _contains(longer: list[str], shorter: list[str]) -> float:
    """Share of ``shorter``'s characters whose lines appear, whole or in part, in ``longer``."""
    total = sum(len(line) for line in shorter) or 1
    haystack = "\n".join(longer).casefold()
    return sum(len(line) for line in shorter if line.casefold() in haystack) / total


def _extract(html: str, url: str | None, rules: Site) -> Extraction:
    tree = parse(html)
    if tree is None:
        return Extraction(None, "empty or unparsable document")
    meta = metadata.from_json_ld(tree)
    meta.fill(metadata.from_meta(tree))
    declared = {t.lower() for t in meta.page_types}
    if declared & {t.lower() for t in metadata.NOT_ARTICLE_TYPES} and not declared & (
        {t.lower() for t in metadata.ARTICLE_TYPES}
    ):
        return Extraction(None, f"page declares itself {sorted(meta.page_types)}, not an article")
    site = _site_fields(tree, rules)

    removed: list[clean.Removal] = []
    clean.prune(tree, xpaths.INVISIBLE, "invisible", removed)
    for xpath in rules.prune:
        clean.prune(tree, xpath, f"prune:{xpath}", removed)
    clean.keep_embedded_posts(tree, xpaths.EMBEDDED_POSTS)
    narrowed = _narrow(tree, rules)
    if rules.body and narrowed is None:
        # A known site's page without its article body is a listing, an error page, or a new layout:
        # storing whatever else the page holds would fill the store with menus and headlines.
        return Extraction(None, "no article body (the site rules' body XPaths match nothing)", removed)
    lines, doc = _body_lines(narrowed if narrowed is not None else tree, url)
    method = "trafilatura" + ("+body" if narrowed is not None else "")
    # Guard: trafilatura sometimes keeps only the first of several sibling blocks of the article.
    # Only then, readability-lxml gets a say, and only when it finds much more that includes ours.
    if narrowed is None and _looks_short(lines, _paragraph_chars(tree), meta.article_body):
        alt = _readability_lines(tree, url)
        chars = sum(len(line) for line in lines)
        if sum(len(line) for line in alt) > LONGER_BY * chars and _contains(alt, lines) >= MIN_CONTAINED:
            removed.append(("shorter trafilatura text replaced by readability's", "\n".join(lines)))
            lines, method = alt, "readability+trafilatura"

    for name, pattern in rules.line_field_patterns:
        for i, line in enumerate(lines):
            if hit := pattern.fullmatch(line):
                site.setdefault(name, [hit.group(1).strip()] if name in LIST_FIELDS else hit.group(1).strip())
                removed.append((f"line_fields:{name}", lines.pop(i)))
                break
    lines = clean.drop_lines(lines, rules.drop_line_patterns, "drop_lines", removed)
    lines = clean.drop_related(lines, removed)
    lines = clean.drop_lines(lines, clean.BOILERPLATE_LINES, "boilerplate", removed)
    own_urls = {u.rstrip("/") for u in (url, meta.canonical_url) if u}
    lines = clean.drop_lines(lines, [re.compile(re.escape(u) + "/?") for u in own_urls], "own URL", removed)

    title = site.get("title") or meta.title or _clean_attr(doc, "title")
    subtitle = site.get("subtitle") or meta.subtitle
    headings = [title, subtitle, meta.title, _clean_attr(doc, "title"), *metadata.title_parts(tree)]
    # Not the description: it is often the lead paragraph itself (measured: F1 -0.001, recall -0.005).
    lines = clean.drop_headings(lines, headings, removed)
    lines = clean.dedupe(lines, removed)
    if not lines:
        return Extraction(None, "no article text found", removed)

    text = "\n\n".join(lines)
    authors = site.get("authors") or meta.authors or _split_author(_clean_attr(doc, "author"))
    people, agencies = metadata.split_agencies(authors)
    published_raw = site.get("published") or meta.published_raw or _clean_attr(doc, "date")
    modified_raw = site.get("modified") or meta.modified_raw
    lang, prob = detect_language(text, meta.html_lang)
    article = Article(
        url=url or "",
        canonical_url=canonicalize(meta.canonical_url or url or "", url) if (meta.canonical_url or url) else "",
        site=rules.name if rules is not GENERIC else (urlsplit(url).hostname or "" if url else ""),
        title=title,
        subtitle=subtitle,
        authors=people,
        source=site.get("source") or agencies or meta.source,
        published=dates.iso_date(published_raw),
        published_raw=published_raw,
        modified=dates.iso_date(modified_raw),
        modified_raw=modified_raw,
        section=site.get("section") or meta.section or _first(getattr(doc, "categories", None)),
        tags=site.get("tags") or meta.tags or list(getattr(doc, "tags", None) or []),
        description=site.get("description") or meta.description or _clean_attr(doc, "description"),
        image=site.get("image") or meta.image or _clean_attr(doc, "image"),
        language=lang,
        language_probability=prob,
        text=text,
        rules=rules.name if rules is not GENERIC else "generic",
        method=method,
    )
    return Extraction(article.finish(), "", removed)


def _clean_attr(doc: Any, name: str) -> str:
    return " ".join(str(getattr(doc, name, None) or "").split())


def _first(values: Any) -> str:
    return " ".join(str(values[0]).split()) if values else ""


def _split_author(value: str) -> list[str]:
    return [a.strip() for a in value.split(";") if a.strip()] if value else []
