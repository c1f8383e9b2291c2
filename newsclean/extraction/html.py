"""Bytes to text to an lxml tree, never raising on odd input."""

from __future__ import annotations

import codecs
import re

import lxml.html
from bs4.dammit import EncodingDetector, UnicodeDammit
from lxml.etree import ParserError

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


# Browsers read these labels as windows-1252, a superset; so does newsclean.
_AS_CP1252 = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso8859-1"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: str | bytes) -> str:
    """Text of ``data``: bytes are decoded by BOM, then declared charset, then as UTF-8, then sniffed.

    Sniffing (chardet, slow) runs only for bytes that declare nothing and are not valid UTF-8.
    """
    if isinstance(data, str):
        return data
    candidates = [enc for bom, enc in _BOMS if data.startswith(bom)]
    declared = EncodingDetector.find_declared_encoding(data[:8192], is_html=True)
    if declared:
        candidates.append("cp1252" if declared.lower() in _AS_CP1252 else declared)
    candidates.append("utf-8")
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
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
