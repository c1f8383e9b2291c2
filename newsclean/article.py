"""The one item newsclean produces: an :class:`Article`.

Every field carries its meaning and format in ``metadata["doc"]``; the README's table of fields is
generated from it (``newsclean fields``) and a test keeps the two identical.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any


def _f(doc: str, default: Any = None, factory: Any = None) -> Any:
    if factory is not None:
        return field(default_factory=factory, metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


@dataclass
class Article:
    """A news article: clean body text plus metadata, one per canonical URL."""

    url: str = _f("URL the page was fetched from (after redirects).", "")
    canonical_url: str = _f(
        "The page's canonical URL (`link[rel=canonical]`, else `url`), tracking parameters removed.",
        "",
    )
    site: str = _f(
        "Site the article comes from: its site rules' name (`themoscowtimes`), else the URL's host name.", ""
    )
    title: str = _f("Headline as published.", "")
    subtitle: str = _f("Standfirst / dek under the headline; empty when the page has none.", "")
    authors: list[str] = _f(
        "People credited in the byline, in order. A news agency credited as the byline goes to `source`.",
        factory=list,
    )
    source: str = _f(
        "Agency or credit line the article is attributed to (`AFP`, `TRT World & Agencies`); empty if none.",
        "",
    )
    published: str = _f("Publication date, ISO 8601 (`2024-12-27T10:30:00+03:00` or `2024-12-27`).", "")
    published_raw: str = _f("The publication date exactly as the page states it.", "")
    modified: str = _f("Last modification date, ISO 8601; empty when the page gives none.", "")
    modified_raw: str = _f("The modification date exactly as the page states it.", "")
    section: str = _f("Section or category the site files the article under (`News`, `POLITICS`).", "")
    tags: list[str] = _f("Keywords / tags the site gives the article, in page order.", factory=list)
    description: str = _f("The page's summary (meta / Open Graph description).", "")
    image: str = _f("URL of the lead image (`og:image` or JSON-LD `image`).", "")
    language: str = _f("ISO 639-1 code of the text's language (`en`), detected; empty if unknown.", "")
    language_probability: float = _f(
        "Detector's probability for `language`, 0 to 1 (1.0 when taken from `<html lang>`).", 0.0
    )
    text: str = _f(
        "Article body only: paragraphs in order, one blank line between them; no title, captions, "
        "credits, related links, widget or player text.",
        "",
    )
    word_count: int = _f("Number of whitespace-separated words in `text`.", 0)
    fetched_at: str = _f("When the page was fetched, ISO 8601 UTC (`2026-11-24T09:00:00+00:00`).", "")
    content_hash: str = _f("SHA-256 (hex) of `text`: equal texts, equal hashes.", "")
    rules: str = _f("Provenance: name of the site rules applied (`generic` when none matched).", "")
    method: str = _f("Provenance: the extraction path that produced `text` (`trafilatura`, ...).", "")
    source_evidence: list[str] = _f(
        "Provenance of `source`: every signal that named an agency, as `signal:name` (`byline:AFP`, "
        "`dateline:Reuters`, `credit:Reuters`, `cluster:AP`), in the order found.",
        factory=list,
    )
    cluster: str = _f(
        "Wire-copy cluster: articles whose texts are the same story republished share this id "
        "(every article has one; alone in its cluster when no copy is known). Set by the store.",
        "",
    )
    extractor_version: str = _f(
        "Provenance: the newsclean that extracted this row: its version and a digest of its extraction code "
        "and site rules (`0.1.0+cdfac9562b9f`).",
        "",
    )
    access: str = _f(
        "Whether the page gives the whole article to any reader: `free`, `restricted` (part of it is for "
        "subscribers: JSON-LD `isAccessibleForFree` false, or paywall markup) or `unknown`.",
        "unknown",
    )
    truncated: bool = _f(
        "True when `text` ends where a paywall cuts the article: only its free part was on the page.", False
    )
    signals: list[str] = _f(
        "Reservations of text-and-data-mining and AI use the site or page declared, as `signal:value` "
        "(`tdm-reservation:1`, `x-robots-tag:noai`, `content-signal:ai-train=no`, `robots:GPTBot`); "
        "empty when none was found. Recorded, so that exports can filter on them.",
        factory=list,
    )

    def finish(self) -> Article:
        """Derive `word_count` and `content_hash` from `text`."""
        self.word_count = len(self.text.split())
        self.content_hash = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        return self


ARTICLE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Article))


def field_table() -> str:
    """The Markdown table of Article fields, as the README shows it."""
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for f in fields(Article):
        rows.append(f"| `{f.name}` | `{f.type}` | {f.metadata['doc']} |")
    return "\n".join(rows) + "\n"
