"""Bytes to text to an lxml tree, never raising on odd input."""

from __future__ import annotations

import re

import lxml.html
from bs4.dammit import EncodingDetector, UnicodeDammit
from lxml.etree import ParserError

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1", "iso8859-1"})
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


def decode(data: str | bytes, encoding: str | None = None) -> str:
    """Text of ``data``: bytes are decoded by BOM, ``encoding`` (the charset of the HTTP response's
    Content-Type), the charset the page declares, UTF-8, then sniffing; the HTML standard's order.

    Byte-level sniffing (chardet) is slow (0.4 s on a large page) and only needed when nothing is
    declared and the bytes are not valid UTF-8, which valid non-ASCII UTF-8 almost never is by chance.
    """
    if isinstance(data, str):
        return data
    stripped, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    declared = bom_encoding or encoding or EncodingDetector.find_declared_encoding(data, is_html=True)
    if declared and declared.lower().replace("_", "-") in _WINDOWS_1252_LABELS:
        declared = "windows-1252"  # as browsers do (WHATWG Encoding Standard)
    if declared:
        try:
            return stripped.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return stripped.decode("utf-8")
    except UnicodeDecodeError:
        pass
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
