"""Article metadata from JSON-LD, then Open Graph / <meta>, in that order of trust."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from newsclean.extraction import fields, xpaths
from newsclean.extraction.fields import unescape

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "TechArticle",
        "ScholarlyArticle",
    }
)
# Page types that say, with no article type beside them, that a page is not an article.
NOT_ARTICLE_TYPES = frozenset(
    {"VideoObject", "video.other", "video.movie", "video.episode", "CollectionPage", "SearchResultsPage", "ProfilePage"}
)

# The page types that may declare, for the article they hold, whether it is free.
WEB_PAGE_TYPES = frozenset({"WebPage", "ItemPage", "WebContent"})

# Bylines that name a news agency rather than a person: fields.AGENCIES.
AGENCIES = fields.AGENCIES

MAX_AGENCY_CHARS = 200


@dataclass
class Metadata:
    """Fields read from the page's markup; empty strings where the page says nothing."""

    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    source: str = ""
    published_raw: str = ""
    modified_raw: str = ""
    section: str = ""
    tags: list[str] = field(default_factory=list)
    description: str = ""
    image: str = ""
    canonical_url: str = ""
    html_lang: str = ""
    page_types: set[str] = field(default_factory=set)
    # JSON-LD ``articleBody``: a cross-check of the extracted text's length only (often truncated).
    article_body: str = ""
    # Organisations the JSON-LD credits as author (not agencies): the credit line of a page without
    # a person's byline (``BBC News``).
    credit: str = ""
    # JSON-LD ``isAccessibleForFree`` of the article (or of its web page): "true", "false" or "".
    accessible_for_free: str = ""
    # The ``cssSelector`` of each ``hasPart`` the JSON-LD declares not free (the paywalled parts).
    paywalled_parts: list[str] = field(default_factory=list)

    def fill(self, other: Metadata) -> None:
        """Take each field of ``other`` that is still empty here."""
        for name in self.__dataclass_fields__:
            if name == "page_types":
                self.page_types |= other.page_types
            elif not getattr(self, name) and getattr(other, name):
                setattr(self, name, getattr(other, name))


def _clean(value: Any) -> str:
    """A metadata value as text: entities resolved, whitespace normalised."""
    return unescape(str(value)) if value is not None else ""


def _names(value: Any, organizations: bool = False, nodes: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Names from a JSON-LD author value (a string, an object or a list of them).

    People and plain strings by default; with ``organizations``, only Organization-typed objects.
    An object that only refers to another (``{"@id": ...}``) is looked up in ``nodes``.
    """
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict) and "name" not in item and nodes and str(item.get("@id", "")) in nodes:
            item = nodes[str(item["@id"])]
        is_org = isinstance(item, dict) and bool(_types(item) & {"Organization", "NewsMediaOrganization"})
        if is_org != organizations:
            continue
        name = item.get("name", "") if isinstance(item, dict) else item
        if isinstance(name, list):
            names.extend(_clean(n) for n in name)
        elif name:
            # whitespace normalised first: a long run of spaces would make the split quadratic
            names.extend(_clean(n) for n in re.split(r" ?(?:,|;|\band\b) ?", _clean(name)))
    return [n for n in dict.fromkeys(names) if n]


def _first_url(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or ""
    return _clean(value)


def _keywords(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    words = [_clean(v) for v in items]
    return [w for w in dict.fromkeys(words) if w]


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    return {str(k) for k in (kind if isinstance(kind, list) else [kind])}


def _flag(value: Any) -> str:
    """A JSON-LD boolean (``true``, ``"True"``, ``"false"``...) as "true" or "false"; "" otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower() if isinstance(value, str) else ""
    return text if text in ("true", "false") else ""


def _paywalled_parts(node: dict[str, Any]) -> list[str]:
    """The ``cssSelector`` of each of the node's ``hasPart`` entries that is not free."""
    parts = node.get("hasPart")
    selectors: list[str] = []
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _flag(part.get("isAccessibleForFree")) == "false":
            value = part.get("cssSelector")
            selectors += [s for s in (value if isinstance(value, list) else [value]) if isinstance(s, str)]
    return selectors


def _json_int(digits: str) -> int | str:
    """A JSON integer; one too long for ``int()`` (over 4,300 digits) stays text, not a failed block."""
    return int(digits) if len(digits) <= 100 else digits


def _json_ld_nodes(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for raw in tree.xpath(xpaths.JSON_LD):
        try:
            data = json.loads(raw.strip().rstrip(";"), parse_int=_json_int)
        except (ValueError, RecursionError):
            continue
        stack = deque(data if isinstance(data, list) else [data])
        while stack:
            node = stack.popleft()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                yield node
                if isinstance(node.get("@graph"), list):
                    stack.extend(node["@graph"])


def _refers_to(node: dict[str, Any], urls: set[str]) -> bool:
    """True when the node names one of ``urls`` as its own (url, @id, mainEntityOfPage)."""
    main = node.get("mainEntityOfPage")
    own = [node.get("url"), node.get("@id"), main.get("@id") if isinstance(main, dict) else main]
    return any(isinstance(u, str) and u.split("#")[0].rstrip("/") in urls for u in own)


def from_json_ld(tree: HtmlElement, url: str | None = None) -> Metadata:
    """Metadata of the page's own article-typed JSON-LD object.

    Where the page holds several (related articles, a list of teasers), the one whose ``url``,
    ``@id`` or ``mainEntityOfPage`` is the page's own URL (``url`` or the canonical link) is taken,
    else the first with a headline.
    """
    meta = Metadata()
    nodes = list(_json_ld_nodes(tree))
    by_id = {str(n["@id"]): n for n in nodes if isinstance(n.get("@id"), str)}
    articles = []
    for node in nodes:
        kinds = _types(node)
        meta.page_types |= kinds
        if kinds & ARTICLE_TYPES and (node.get("headline") or node.get("name")):
            articles.append(node)
    if not articles:
        return meta
    urls = {u.split("#")[0].rstrip("/") for u in (url, *tree.xpath(xpaths.CANONICAL)) if isinstance(u, str) and u}
    node = next((n for n in articles if _refers_to(n, urls)), articles[0])
    section = node.get("articleSection", "")
    # Paywalls are declared on the article, or on the web page that holds it.
    pages = [node] + [n for n in nodes if _types(n) & WEB_PAGE_TYPES and n is not node]
    access = next((f for n in pages if (f := _flag(n.get("isAccessibleForFree")))), "")
    orgs = _names(node.get("author", []), organizations=True, nodes=by_id)
    people, agencies = split_agencies(orgs)
    meta.fill(
        Metadata(
            title=_clean(node.get("headline") or node.get("name")),
            subtitle=_clean(node.get("alternativeHeadline")),
            authors=_names(node.get("author", []), nodes=by_id),
            source=agencies,
            credit=", ".join(people),
            published_raw=_clean(node.get("datePublished")),
            modified_raw=_clean(node.get("dateModified")),
            section=_clean(section[0] if isinstance(section, list) and section else section),
            tags=_keywords(node.get("keywords")),
            description=_clean(node.get("description")),
            image=_first_url(node.get("image")),
            article_body=_clean(node.get("articleBody")),
            accessible_for_free=access,
            paywalled_parts=[s for n in pages for s in _paywalled_parts(n)],
        )
    )
    return meta


def from_meta(tree: HtmlElement) -> Metadata:
    """Metadata from Open Graph, ``article:*`` and plain ``<meta>`` tags, canonical link and lang."""
    values: dict[str, list[str]] = {}
    for node in tree.xpath(xpaths.META):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").lower()
        if key:
            values.setdefault(key, []).append(_clean(node.get("content")))

    def first(*keys: str) -> str:
        return next((v for k in keys for v in values.get(k, []) if v), "")

    # One article:tag per tag is the Open Graph way; some sites (the Guardian) write one, comma-joined.
    tags = [t for v in values.get("article:tag", []) for t in _keywords(v)] or _keywords(
        first("news_keywords", "keywords")
    )
    canonical = tree.xpath(xpaths.CANONICAL)
    lang = tree.xpath(xpaths.HTML_LANG)
    og_type = first("og:type")
    return Metadata(
        title=first("og:title", "twitter:title"),
        authors=_names(first("author", "article:author")) if first("author") else [],
        published_raw=first("article:published_time", "og:article:published_time", "datepublished"),
        modified_raw=first("article:modified_time", "og:updated_time", "datemodified"),
        section=first("article:section"),
        tags=[t for t in dict.fromkeys(tags) if t],
        description=first("description", "og:description", "twitter:description"),
        image=first("og:image", "twitter:image"),
        canonical_url=_clean(canonical[0]) if canonical else "",
        html_lang=_clean(lang[0]) if lang else "",
        page_types={og_type} if og_type else set(),
    )


def _agency(name: str) -> bool:
    # An agency's credit is short; a long "name" is text, never matched (bounded regex work).
    return len(name) <= MAX_AGENCY_CHARS and bool(AGENCIES.match(name))


def split_agencies(authors: list[str]) -> tuple[list[str], str]:
    """People and agency credits apart: (people, agencies joined by ", ")."""
    people = [a for a in authors if not _agency(a)]
    agencies = [a for a in authors if _agency(a)]
    return people, ", ".join(agencies)


def site_names(tree: HtmlElement) -> list[str]:
    """The names the page gives its site (``og:site_name``, ``application-name``)."""
    return [n for n in dict.fromkeys(_clean(v) for v in tree.xpath(xpaths.SITE_NAME)) if n]


def title_parts(tree: HtmlElement) -> list[str]:
    """The page's ``<title>``, ``<h1>`` and sharing titles (``og:title``, ``twitter:title``), and the
    titles split at separators (bars, dashes, colons)."""
    found = [_clean(t) for t in tree.xpath(xpaths.TITLE)] + [_clean(h.text_content()) for h in tree.xpath(xpaths.H1)]
    found += [_clean(t) for t in tree.xpath(xpaths.SHARE_TITLES)]
    parts = [p for t in found for p in re.split(r"\s+[|\-–—:]\s+", t)]
    return [t for t in dict.fromkeys(found + parts) if t]
