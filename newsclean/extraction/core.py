"""``extract_article``: one HTML page in, one clean :class:`~newsclean.article.Article` out."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement
from readability import Document

from newsclean import dates
from newsclean.article import Article
from newsclean.extraction import (
    agencies,
    bylines,
    clean,
    fallback_metadata,
    fields,
    metadata,
    paywall,
    scripted,
    second_opinion,
    stopwords,
    xpaths,
)
from newsclean.extraction.clean import HEADING_LINES
from newsclean.extraction.html import (
    MAX_PAGE_SIZE,
    MAX_PAGE_TEXT_RUNS,
    decode,
    join_text_runs,
    node_text,
    parse,
    remove,
)
from newsclean.extraction.language import detect_language
from newsclean.extraction.result import Extraction
from newsclean.registry import site_for_url
from newsclean.sites import GENERIC, Site
from newsclean.urls import hostname, try_canonicalize

logger = logging.getLogger(__name__)
stopwords.install()  # trafilatura's jusText fallback: 1.2 MB of stop words instead of 33 MB
second_opinion.install()  # its readability comparison only where it can change the text

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
# A known site's page whose body rule matched nothing is extracted the generic way (rules fail open)
# and kept when it reads like an article: FALLBACK_MIN_CHARS of running text (paragraphs that end
# like a sentence; a listing's teaser headlines do not) or more, in FALLBACK_MIN_LINES paragraphs or
# more, and under MAX_LINK_SHARE of it the text of links.
FALLBACK_MIN_CHARS = 400
FALLBACK_MIN_LINES = 2
MAX_LINK_SHARE = 0.5
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
# An invisible element (hidden, aria-hidden, display:none, template, noscript) is removed unless it
# holds more than HIDDEN_MAX_SHARE of the page's running text: pages that stream their content into a
# hidden container, or hide the paywalled part, hide the article itself.
HIDDEN_MAX_SHARE = 0.5
# A lead: a block after the headline whose class names it so, of running text.
_LEAD_CLASS = re.compile(
    r"(?:^|[\s_-])(?:lead|intro|teaser|preamble|standfirst|summary|excerpt|abstract|synopsis|dek|strapline)(?:$|[\s_-])",
    re.IGNORECASE,
)
LEAD_MIN_CHARS = 40
LEAD_MAX_CHARS = 700
_NOT_LEAD_ANCESTORS = frozenset({"nav", "aside", "footer", "figure", "a", "li", "figcaption", "form", "header"})
CARD_RUN = 3
# Tags whose text may hold a site's line field ("SOURCE: AFP") outside the body.
_FIELD_LINE_TAGS = ("p", "div", "span", "li", "small", "footer", "em", "strong", "section", "aside")
CONTAINS_BUDGET = 200_000_000
# Text nodes (not blank) past which a page is large (real pages measured: 913 at most); see _large.
LARGE_PAGE_TEXTS = 2_000
_TEXT_NODES = lxml.etree.XPath("count(//text()[normalize-space()])")


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
        if len(html) > MAX_PAGE_SIZE:
            return Extraction(None, f"page too large: {len(html)} bytes or characters (at most {MAX_PAGE_SIZE})")
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


def _large(tree: HtmlElement) -> bool:
    """True when the page holds more text blocks than any real article page measured, many times
    over: trafilatura's fallbacks (jusText) and readability take time that grows with the square
    of their number, so such a page gets trafilatura's main path alone."""
    return _TEXT_NODES(tree) > LARGE_PAGE_TEXTS


def _body_lines(tree: HtmlElement, url: str | None, fast: bool = False) -> list[str]:
    url = url if hostname(url) else None  # trafilatura discards a page whose URL it cannot parse
    options = {**TRAFILATURA_OPTIONS, "fast": True} if fast else TRAFILATURA_OPTIONS
    with second_opinion.gated(_paragraph_chars):
        doc = trafilatura.bare_extraction(tree, url=url, with_metadata=False, **options)
    return _lines(getattr(doc, "text", None) or "")


def _fallback_metadata(tree: HtmlElement, url: str | None, meta: metadata.Metadata) -> Any:
    """trafilatura's own metadata (its title, byline and date heuristics, htmldate), read only when
    the page's JSON-LD and ``<meta>`` tags lack a title, a date or a byline: it costs as much as a
    tenth of the extraction. None when they have them, or when one of trafilatura's values is bad
    (a date offset of +99:00 makes it raise): newsclean reads its own metadata anyway."""
    if meta.title and meta.published_raw and (meta.authors or meta.credit or meta.source):
        return None
    try:
        return fallback_metadata.read(
            tree, url if hostname(url) else None, date=not meta.published_raw, categories=not meta.section,
            tags=not meta.tags,
        )  # fmt: skip
    except (ValueError, TypeError, OverflowError):
        return None


def _lines(text: str) -> list[str]:
    """trafilatura's text as body lines, whitespace normalised.

    trafilatura marks list items with "- "; in newsclean's text each item is a paragraph of its own.
    """
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line.removeprefix("- ") for line in lines if line and line != "-"]


def _paragraph_chars(tree: HtmlElement, xpath: str = xpaths.PARAGRAPHS, enough: int = 0) -> int:
    """Characters in the paragraphs (under ``tree``) long enough to be running text; with ``enough``,
    counted only until they reach it (the answer is then at least ``enough``)."""
    total = 0
    for p in tree.xpath(xpath):
        if (n := len(node_text(p))) >= MIN_PARAGRAPH_CHARS:
            total += n
            if enough and total >= enough:
                break
    return total


_MAYBE_INVISIBLE = lxml.etree.XPath(xpaths.MAYBE_INVISIBLE)
_INVISIBLE_TAGS = frozenset({"noscript", "template", "dialog"})


def _invisible(node: HtmlElement) -> bool:
    """:data:`xpaths.INVISIBLE`'s test, for one element."""
    if node.tag in _INVISIBLE_TAGS or node.get("hidden") is not None or node.get("aria-hidden") == "true":
        return True
    style = (node.get("style") or "").replace(" ", "")
    return "display:none" in style or "visibility:hidden" in style


def _prune_invisible(tree: HtmlElement, removed: list[clean.Removal]) -> None:
    """Remove the elements no reader sees, except one that holds most of the page's running text."""
    nodes = [n for n in _MAYBE_INVISIBLE(tree) if isinstance(n, HtmlElement) and _invisible(n)]
    if not nodes:
        return
    total = -1  # the page's running text, counted once and only if a hidden element holds some
    for node in nodes:
        if node.getparent() is None:
            continue
        held = _paragraph_chars(node, ".//p")
        if held and total < 0:
            total = _paragraph_chars(tree)
        if held and held > HIDDEN_MAX_SHARE * total:
            removed.append(("invisible, kept: it holds the page's running text", node_text(node)[:200]))
            continue
        text = node_text(node)
        remove(node)
        if text:
            removed.append(("invisible", text))


def _looks_short(lines: list[str], paragraph_chars: int, json_ld_body: str) -> bool:
    """True when the text holds much less than the page's running text or its JSON-LD articleBody."""
    chars = sum(len(line) for line in lines)
    return chars < SHORT_SHARE * paragraph_chars or chars * LONGER_BY < len(json_ld_body)


def _readability_lines(tree: HtmlElement, url: str | None) -> list[str]:
    """Body lines of the block readability-lxml picks, cut into lines by trafilatura."""
    try:
        summary = Document(lxml.html.tostring(tree, encoding="unicode")).summary()
        return _lines(trafilatura.extract(summary, url=url if hostname(url) else None, **TRAFILATURA_OPTIONS) or "")
    except Exception:  # the second opinion only: trafilatura's text stands
        logger.info("readability failed for %s", url or "<input>", exc_info=True)
        return []


def _contains(longer: list[str], shorter: list[str]) -> float:
    """Share of ``shorter``'s characters whose lines appear, whole or in part, in ``longer``.

    Lines found whole cost a set look-up; the search for parts stops after
    :data:`CONTAINS_BUDGET` characters scanned (lines past it count as not found), so the work
    stays bounded on a page of thousands of lines.
    """
    total = sum(len(line) for line in shorter) or 1
    whole = {line.casefold() for line in longer}
    haystack = "\n".join(longer).casefold()
    found, budget = 0, CONTAINS_BUDGET
    for line in shorter:
        key = line.casefold()
        if key in whole:
            found += len(line)
        elif budget > 0:
            budget -= len(haystack)
            found += len(line) if key in haystack else 0
    return found / total


def _extract(html: str, url: str | None, rules: Site) -> Extraction:
    tree = parse(html)
    if tree is None:
        return Extraction(None, "empty or unparsable document")
    meta = metadata.from_json_ld(tree, url)
    meta.fill(metadata.from_meta(tree))
    json_ld_agencies = agencies.from_json_ld(tree)
    declared = {t.lower() for t in meta.page_types}
    if declared & {t.lower() for t in metadata.NOT_ARTICLE_TYPES} and not declared & (
        {t.lower() for t in metadata.ARTICLE_TYPES}
    ):
        return Extraction(None, f"page declares itself {sorted(meta.page_types)}, not an article")
    site = _site_fields(tree, rules)
    dek = _dek(tree) if rules.body else ""  # read before the site's prune rules take the header away

    removed: list[clean.Removal] = []
    # The declared paywalled parts are looked for before anything is removed: present, hidden or not.
    wall = paywall.declared_parts(tree, meta.accessible_for_free, meta.paywalled_parts)
    _prune_invisible(tree, removed)
    # A page that prints no running text may ship its article as HTML inside a script (scripted.py).
    from_script = _paragraph_chars(tree, enough=FALLBACK_MIN_CHARS) < FALLBACK_MIN_CHARS and scripted.restore(tree)
    paywall.remove_boxes(tree, wall, removed)
    for xpath in rules.prune:
        clean.prune(tree, xpath, f"prune:{xpath}", removed)
    clean.keep_embedded_posts(tree, xpaths.EMBEDDED_POSTS)
    clean.unwrap_layout_tables(tree)
    clean.drop_link_labels(tree, removed)
    clean.drop_placeholders(tree, removed)
    clean.inline_ruby(tree)
    if (runs := join_text_runs(tree)) > MAX_PAGE_TEXT_RUNS:
        return Extraction(None, f"page too large: {runs} text runs in paragraphs (at most {MAX_PAGE_TEXT_RUNS})")
    narrowed = _narrow(tree, rules)
    # A known site's page without its article body is a new layout, an A/B variant, or a page that is
    # no article (a listing, an error page): the generic path decides, and the miss is recorded.
    body_missed = bool(rules.body) and narrowed is None
    doc = _fallback_metadata(tree, url, meta)
    large = _large(tree)
    lines = _body_lines(narrowed if narrowed is not None else tree, url, fast=large)
    method = "trafilatura" + ("+body" if narrowed is not None else "") + ("+script" if from_script else "")
    # Guard: trafilatura sometimes keeps only the first of several sibling blocks of the article.
    # Only then, readability-lxml gets a say, and only when it finds much more that includes ours.
    if narrowed is None and not large and _looks_short(lines, _paragraph_chars(tree), meta.article_body):
        alt = _readability_lines(tree, url)
        chars = sum(len(line) for line in lines)
        if sum(len(line) for line in alt) > LONGER_BY * chars and _contains(alt, lines) >= MIN_CONTAINED:
            removed.append(("shorter trafilatura text replaced by readability's", "\n".join(lines)))
            lines, method = alt, "readability+trafilatura"

    for name, pattern in rules.line_field_patterns:
        for i, line in enumerate(lines):
            if len(line) <= clean.MAX_PATTERN_LINE and (hit := pattern.fullmatch(line)):
                site.setdefault(name, [hit.group(1).strip()] if name in LIST_FIELDS else hit.group(1).strip())
                removed.append((f"line_fields:{name}", lines.pop(i)))
                break
        else:
            # Not among the body lines: the page may print it outside the body container.
            if value := _page_line_field(tree, pattern):
                site.setdefault(name, [value] if name in LIST_FIELDS else value)
    lines = clean.drop_lines(lines, rules.drop_line_patterns, "drop_lines", removed)
    lines = clean.drop_related(lines, removed)
    # Other articles' headlines printed in the body as links: a run of CARD_RUN of them is a teaser
    # list whatever its markup; after a body rule missed, one is enough (the site's prune rules were
    # written for the layout that changed too).
    lines = _drop_link_cards(tree, lines, removed, 1 if body_missed else CARD_RUN)
    lines = clean.drop_lines(lines, clean.BOILERPLATE_LINES, "boilerplate", removed)
    lines, prompt_at_end = paywall.drop_prompts(lines, wall, removed)
    own_urls = {u.rstrip("/") for u in (url, meta.canonical_url) if u}
    lines = clean.drop_lines(lines, [re.compile(re.escape(u) + "/?") for u in own_urls], "own URL", removed)

    site_keys = fields.site_keys(metadata.site_names(tree), url)
    h1 = [node_text(h) for h in tree.iter("h1")][:1]
    sections = [meta.section] if meta.section else []
    title = site.get("title") or fields.clean_title(meta.title or _clean_attr(doc, "title"), site_keys, h1, sections)
    # A site's subtitle field is written for the layout its body rule was: when that missed, the
    # standfirst under the headline is looked for the generic way (and not repeated in the text).
    subtitle = site.get("subtitle") or meta.subtitle or (dek if body_missed else "")
    headings = [title, subtitle, meta.title, _clean_attr(doc, "title"), *metadata.title_parts(tree)]
    # Not the description: it is often the lead paragraph itself (measured: F1 -0.001, recall -0.005).
    lines = clean.drop_headings(lines, headings, removed)
    lines = clean.dedupe(lines, removed)
    if body_missed:
        method += "+body_missed"
        # The generic path keeps the block it takes for the content; a lead printed before it (which
        # the site's body rule named as a part of its own) is looked for after the headline.
        lead = _lead(tree, lines[0]) if len(rules.body) > 1 and lines else ""
        if lead and not any(clean._words(lead) in clean._words(line) for line in lines[:HEADING_LINES]):
            lines.insert(0, lead)
            method += "+lead"
        if why := _not_an_article(tree, lines):
            return Extraction(None, f"no article body (the site rules' body XPaths match nothing; {why})", removed)
    lines, signals = agencies.scan(lines, removed)
    if not lines and "prompt" in wall.evidence:
        return Extraction(None, "paywall prompt only: the page's text is a paywall prompt, no article", removed)
    if not lines:
        return Extraction(None, "no article text found", removed)

    names = [meta.authors, _split_author(_clean_attr(doc, "author"))]
    authors = site.get("authors") or next((a for b in names if (a := fields.clean_authors(b, site_keys))), [])
    people, credited = metadata.split_agencies(authors)
    lines, people = bylines.take(lines, people, site_keys, removed)
    lines = bylines.drop_bio(lines, people, removed)
    if not lines:
        return Extraction(None, "no article text found", removed)
    access, truncated = paywall.judge(wall, lines, prompt_at_end)
    text = "\n\n".join(lines)
    if not people and not credited and not site.get("source"):
        # No person in the byline: the credit line is the organisation the page names as author,
        # the site itself included ("BBC News"), which is never taken for a person.
        own = (fields.unescape(n) for b in names for n in b if fields.is_site_name(fields.unescape(n), site_keys))
        credited = meta.credit or next(own, "")
    attribution = agencies.attribute(
        signals, site_rules=site.get("source", ""), byline=credited, json_ld=json_ld_agencies, meta_source=meta.source
    )
    published_raw = site.get("published") or meta.published_raw or _clean_attr(doc, "date")
    modified_raw = site.get("modified") or meta.modified_raw
    lang, prob = detect_language(text, meta.html_lang)
    article = Article(
        url=url or "",
        canonical_url=_canonical_url(meta.canonical_url, url),
        site=rules.name if rules is not GENERIC else hostname(url),
        title=title,
        subtitle=subtitle,
        authors=people,
        source=attribution.source,
        source_evidence=attribution.evidence,
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
        access=access,
        truncated=truncated,
    )
    return Extraction(article.finish(), "", removed)


_DEK_CLASS = re.compile(
    r"(?:^|[\s_-])(?:summary|subtitle|sub-title|standfirst|dek|strapline|subheadline|subhead)(?:$|[\s_-])",
    re.IGNORECASE,
)


def _drop_link_cards(tree: HtmlElement, lines: list[str], removed: list[clean.Removal], run: int = 1) -> list[str]:
    """``lines`` without the titles of link cards: lines that are the whole text of a link and do not
    end like a sentence (other articles' headlines printed in the body), in runs of ``run`` or more."""
    cards = {"".join(node_text(a).split()) for a in tree.iter("a") if len(node_text(a)) >= 20}
    hits = [not _SENTENCE_END.search(line) and "".join(line.split()) in cards for line in lines]
    drop = [False] * len(lines)
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and hits[j]:
            j += 1
        if j - i >= run:
            drop[i:j] = [True] * (j - i)
        i = max(j, i + 1)
    kept = []
    for line, gone in zip(lines, drop, strict=True):
        if gone:
            removed.append(("link card", line))
        else:
            kept.append(line)
    return kept


def _dek(tree: HtmlElement) -> str:
    """The standfirst printed under the page's h1: an h2 or p right after it, or a block its class
    names so, in the h1's own header."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return ""
    following = h1.getnext()
    candidates = [following] if following is not None and following.tag in {"h2", "p"} else []
    header = next((a for a in h1.iterancestors() if a.tag == "header"), None)
    if header is not None:
        candidates += [n for n in header.iter("h2", "p", "div") if _DEK_CLASS.search(n.get("class") or "")]
    for node in candidates:
        text = node_text(node)
        if LEAD_MIN_CHARS <= len(text) <= LEAD_MAX_CHARS:
            return text
    return ""


def _lead(tree: HtmlElement, first_line: str) -> str:
    """The text of the first lead block between the page's h1 and ``first_line`` (outside the page
    header), or ""."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return ""
    after = False
    for node in tree.iter("div", "p", "section", "h2", "span", "h1"):
        if node is h1:
            after = True
        elif node.tag == "p" and node_text(node) == first_line:
            return ""
        elif after and _LEAD_CLASS.search(node.get("class") or "") and len(node.xpath(".//p")) <= 2:
            text = node_text(node)
            sized = LEAD_MIN_CHARS <= len(text) <= LEAD_MAX_CHARS and bool(_SENTENCE_END.search(text))
            if sized and not {a.tag for a in node.iterancestors()} & _NOT_LEAD_ANCESTORS:
                return text
    return ""


def _page_line_field(tree: HtmlElement, pattern: re.Pattern[str]) -> str:
    """The group of the first short text block of the page that ``pattern`` matches in full."""
    for node in tree.iter(*_FIELD_LINE_TAGS):
        text = node_text(node)
        if text and len(text) <= 300 and (hit := pattern.fullmatch(text)):
            return hit.group(1).strip()
    return ""


def _not_an_article(tree: HtmlElement, lines: list[str]) -> str:
    """Why the generic text of a page is no article (empty when it reads like one)."""
    chars = sum(len(line) for line in lines)
    running = sum(len(line) for line in lines if _SENTENCE_END.search(line))
    if running < FALLBACK_MIN_CHARS or len(lines) < FALLBACK_MIN_LINES:
        return (
            f"the page's text is too short for an article ({running} characters of running text "
            f"in {len(lines)} paragraphs)"
        )
    # Compared without spaces: link texts are often pieces (kicker, headline) set apart by markup only.
    links = "\n".join("".join(node_text(a).split()) for a in tree.iter("a"))
    linked = sum(len(line) for line in lines if len(line) <= 300 and "".join(line.split()) in links)
    if linked > MAX_LINK_SHARE * chars:
        return f"the page's text is mostly links ({linked} of {chars} characters)"
    return ""


def _canonical_url(canonical: str, url: str | None) -> str:
    """The page's canonical link made absolute and clean; the page URL when the link is not an
    http(s) URL that parses (``http://[::1``, ``javascript:``); "" when neither is."""
    if canonical and (found := try_canonicalize(canonical, url)) and found.startswith(("http://", "https://")):
        return found
    return try_canonicalize(url) if url else ""


def _clean_attr(doc: Any, name: str) -> str:
    return " ".join(str(getattr(doc, name, None) or "").split())


def _first(values: Any) -> str:
    return " ".join(str(values[0]).split()) if values else ""


def _split_author(value: str) -> list[str]:
    return [a.strip() for a in value.split(";") if a.strip()] if value else []
