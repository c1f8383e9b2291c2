"""Bytes to text to an lxml tree, never raising on odd input."""

from __future__ import annotations

import re

import lxml.html
from bs4.dammit import UnicodeDammit
from lxml.etree import ParserError

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


def decode(data: str | bytes) -> str:
    """Text of ``data``: bytes are decoded by BOM, declared charset, then sniffing."""
    if isinstance(data, str):
        return data
    dammit = UnicodeDammit(data, is_html=True)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return data.decode("utf-8", errors="replace")


def parse(text: str) -> lxml.html.HtmlElement | None:
    """The document tree of ``text``, or None when there is no markup to parse."""
    text = _XML_DECLARATION.sub("", text, count=1).replace("\x00", "")
    if not text.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(text, parser=_PARSER)
    except (ParserError, ValueError):
        return None
    return tree if tree is not None and len(tree) else None


def node_text(node: object) -> str:
    """Whitespace-normalised text of an element, or the string an XPath returned."""
    raw = node if isinstance(node, str) else lxml.html.HtmlElement.text_content(node)  # type: ignore[arg-type]
    return " ".join(str(raw).split())


def remove(node: lxml.html.HtmlElement) -> None:
    """Remove ``node`` but keep the text that follows it (its tail)."""
    if node.getparent() is not None:
        node.drop_tree()
