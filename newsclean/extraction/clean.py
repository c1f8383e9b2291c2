"""Removing what is not the article: elements before extraction, lines after it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.etree import XPathError
from lxml.html import HtmlElement

from newsclean.extraction.html import node_text, remove

# A removed block: (the rule that removed it, its text).
Removal = tuple[str, str]

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_LINE = (
    r"(?:(?:published|updated|posted)\s*:?\s*)?(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\.?\s+{_MONTH},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4})(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[a-z]{2,5})?)?"
)
# Lines that are page furniture on any site. Matched against a whole body line, case-insensitive.
BOILERPLATE_LINES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\d+\s*min(?:ute)?s?\.?\s+read",  # "1 min read"
        r"(?:\d{1,2}:)?\d{1,2}:\d{2}",  # a player's clock, "00:00"
        r"(?:a+\s*)+A",  # font-size control, "aaA"
        r"(?:recommended|related|related (?:articles?|stories|content|news)|read more|read also|"
        r"see also|explore|more on this|advertisement|most read|just in)\s*:?",
        r"related (?:article|story|stories|articles|reading)\s*:.*",  # "Related article: ..."
        r"(?:also )?read (?:more|also)\s*:.*",
        r"original (?:url|link|article)\s*:.*",  # a syndication trailer
        _DATE_LINE,  # the date alone, repeated as body text
    )
)


def prune(tree: HtmlElement, xpath: str, label: str, removed: list[Removal]) -> None:
    """Remove every element ``xpath`` selects (keeping tails), noting each under ``label``."""
    try:
        nodes = tree.xpath(xpath)
    except XPathError as exc:
        removed.append((label, f"invalid XPath: {exc}"))
        return
    for node in nodes:
        if isinstance(node, HtmlElement) and node.getparent() is not None:
            text = node_text(node)
            remove(node)
            if text:
                removed.append((label, text))


def drop_lines(
    lines: Iterable[str], patterns: Iterable[re.Pattern[str]], label: str, removed: list[Removal]
) -> list[str]:
    """``lines`` without those that one of ``patterns`` matches in full."""
    patterns = tuple(patterns)
    kept = []
    for line in lines:
        hit = next((p for p in patterns if p.fullmatch(line)), None)
        if hit is None:
            kept.append(line)
        else:
            removed.append((f"{label}:{hit.pattern}", line))
    return kept


def dedupe(lines: list[str], removed: list[Removal], min_chars: int = 30) -> list[str]:
    """``lines`` with later exact repeats of a paragraph (of ``min_chars`` or more) removed."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = line.casefold()
        if len(line) >= min_chars and key in seen:
            removed.append(("repeated paragraph", line))
            continue
        seen.add(key)
        kept.append(line)
    return kept
