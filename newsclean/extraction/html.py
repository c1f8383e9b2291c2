"""Bytes to text to an lxml tree, never raising on odd input.

Decoding goes by the page's own evidence (:func:`decode`); text that an HTML tree cannot hold
(NULs, control characters, lone surrogates) is removed before parsing; a tree nested deeper than
the parser allows is flattened and parsed again rather than cut off (:func:`parse`).
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

import lxml.etree
import lxml.html
from bs4.dammit import EncodingDetector, UnicodeDammit
from lxml.etree import ParserError
from w3lib.encoding import resolve_encoding

_XML_DECLARATION = re.compile(r"^\s*+<\?xml[^>]*+>", re.IGNORECASE)
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
# Every element an HtmlElement, chosen in C: lxml.html's own lookup asks Python for each element
# (to make <form>, <input>... special classes extraction never uses); measured 4% of extraction.
_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment)
)

# The charset a page declares in its first bytes: <meta charset=...>, <meta http-equiv content=
# "...; charset=...">, or an XML declaration. [^<>] keeps each try within one tag: linear time.
_DECLARED = (
    re.compile(rb"<meta\b[^<>]*?charset\s*+=\s*+[\"']?\s*+([-\w.:]+)", re.IGNORECASE),
    re.compile(rb"^\s*+<\?xml\b[^<>]*?encoding\s*+=\s*+[\"']\s*+([-\w.:]+)", re.IGNORECASE),
)
# Browsers look for the declaration in the first 1,024 bytes; pages with long heads put it later.
DECLARATION_WINDOW = 16_384
# Labels browsers read as windows-1252 (WHATWG Encoding Standard): servers' and editors' defaults.
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1", "iso8859-1"})
# Codecs Python knows that no web page is in, or that decode markup into something else: a page
# declaring one is read as if it declared nothing (browsers do not support them either).
_REFUSED_CODECS = frozenset(
    {"punycode", "idna", "utf-7", "unicode-escape", "raw-unicode-escape", "undefined", "palmos", "mbcs", "oem"}
)
# A page whose bytes are UTF-8 except for a few stray ones is UTF-8: at least this many valid
# non-ASCII bytes for each invalid one (text in a single-byte charset has almost none valid:
# "é" followed by a letter is no UTF-8 sequence).
UTF8_VALID_PER_INVALID = 2
# Bytes sniffed (chardet, slow) when nothing is declared and the bytes are not UTF-8.
SNIFF_WINDOW = 65_536

# Characters an lxml tree refuses or that no reader sees: C0 and C1 controls except tab, line
# feed and carriage return, lone surrogates, and the non-characters U+FFFE and U+FFFF. Vertical
# tab and form feed become spaces; the rest go.
_UNPARSABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]+")
_SPACE_CONTROLS = re.compile("[\x0b\x0c]")
# Either of the two: one scan finds that a page (nearly every page) holds neither.
_UNCLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# lxml's HTML parser stops at 256 levels of nesting and drops everything after that point; and
# trafilatura's handling of nested tables and readability's scoring of nested candidates take time
# that grows with the square of the depth. Real pages measured nest 50 levels at most: a document
# nested deeper than MAX_DEPTH is flattened to FLATTEN_DEPTH and parsed again.
MAX_DEPTH = 120
FLATTEN_DEPTH = 100
_DEEPER = lxml.etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/<>]*+)[^<>]*+>")
# Text blocks kept a little past the depth (paragraphs do not nest), so their text stays apart.
_TEXT_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "blockquote"})
_TEXT_BLOCK_MARGIN = 40
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)


@lru_cache(maxsize=256)
def codec(label: str | None) -> str | None:
    """Python's codec for the charset ``label``, or None when it names none a web page can be in.

    Labels are resolved as browsers do (``iso-8859-1`` is windows-1252, ``gb2312`` is GBK, ...).
    """
    if not label:
        return None
    label = label.strip().strip("\"'").strip().lower().replace("_", "-")
    if not label or len(label) > 40:
        return None
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        name = resolve_encoding(label)
        info = codecs.lookup(name) if name else None
    except (LookupError, ValueError, TypeError):
        return None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None
    return "cp1252" if info.name == "iso8859-1" else info.name


def _wide(name: str) -> bool:
    return name.startswith(("utf-16", "utf-32"))


def declared_charset(data: bytes) -> str | None:
    """The charset label the page declares in its first :data:`DECLARATION_WINDOW` bytes."""
    head = data[:DECLARATION_WINDOW]
    for pattern in _DECLARED:
        if match := pattern.search(head):
            return match.group(1).decode("ascii", "replace")
    return None


def _strict(data: bytes, name: str) -> str | None:
    try:
        return data.decode(name)
    except (UnicodeError, LookupError, ValueError):
        return None


def decode(data: str | bytes, encoding: str | None = None) -> str:
    """Text of ``data``, decoded by the page's own evidence.

    ``encoding`` is the charset of the HTTP response's Content-Type. In order: a byte order mark;
    bytes that are valid UTF-8 (or UTF-8 but for a few stray bytes) and hold non-ASCII text are
    UTF-8, whatever is declared (text in another charset is almost never valid UTF-8, while servers
    often label UTF-8 pages ``ISO-8859-1`` by default); then the HTTP charset, unless it is such a
    default and the page's own ``<meta charset>`` names another that decodes the bytes; then the
    page's charset; then the declared one with replacement characters; then sniffing. Unknown
    charset names, and codecs no page is in (``punycode``, ``idna``, ``utf-7``), count as undeclared.
    """
    if isinstance(data, str):
        return data
    stripped, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    if bom_encoding:
        return stripped.decode(bom_encoding, "replace")
    http, meta = codec(encoding), codec(declared_charset(data))
    # A UTF-16/32 declaration without a byte order mark is believed only if the bytes bear it out:
    # NULs among the first bytes, and markup in what they decode to.
    for name in (http, meta):
        if name and _wide(name) and b"\x00" in data[:1024] and (text := _strict(data, name)) and "<" in text[:1024]:
            return text
    declared = [n for n in dict.fromkeys((http, meta)) if n and not _wide(n)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not data.isascii():
            return text
        # Plain ASCII reads the same in every charset but the 7-bit ones (ISO-2022-JP).
        for name in declared:
            if name.startswith(("iso2022", "hz")) and (other := _strict(data, name)) is not None:
                return other
        return text
    invalid = len(re.findall("[\udc80-\udcff]", data.decode("utf-8", "surrogateescape")))
    non_ascii = len(data.translate(None, bytes(range(128))))  # the bytes left when ASCII is deleted
    if non_ascii - invalid >= UTF8_VALID_PER_INVALID * invalid:
        return data.decode("utf-8", "replace")
    if http in ("cp1252", "ascii") and meta and meta != http:
        declared.reverse()  # the server's default charset against the page's own word: the page's
    for name in declared:
        if (text := _strict(data, name)) is not None:
            return text
    if declared:
        return data.decode(declared[0], "replace")
    # Nothing usable declared and not UTF-8: the bytes' statistics (chardet), else windows-1252,
    # the web's default for such pages.
    # (is_html=False: the <meta charset> already failed above and is not to be tried again.)
    name = codec(UnicodeDammit(data[:SNIFF_WINDOW], is_html=False).original_encoding) or "cp1252"
    return data.decode(name, "replace")


def clean_text(text: str) -> str:
    """``text`` without the characters an HTML tree cannot hold (NULs, controls, lone surrogates)."""
    if _UNCLEAN.search(text) is None:  # a third of the time of the two substitutions
        return text
    return _UNPARSABLE.sub("", _SPACE_CONTROLS.sub(" ", text))


def flatten(text: str, depth: int = FLATTEN_DEPTH) -> str:
    """``text`` without the start and end tags of elements nested deeper than ``depth``.

    Text blocks (paragraphs, headings, list items) are kept a little deeper, so the text stays in
    its paragraphs. Tags are counted as written (void elements aside), which is close enough to a
    parser's nesting for documents that a parser cannot read at all; all text stays in place.
    """
    opened: list[bool] = []  # for each open element: its tags are kept
    kept = 0
    out: list[str] = []
    last = 0
    for match in _TAG.finditer(text):
        name = match.group(2).lower()
        if name in _VOID or match.group(0).endswith("/>"):
            continue
        if match.group(1):  # an end tag
            keep = opened.pop() if opened else True
            kept -= keep
        else:
            keep = kept < depth or (name in _TEXT_BLOCKS and kept < depth + _TEXT_BLOCK_MARGIN)
            opened.append(keep)
            kept += keep
        if not keep:
            out.append(text[last : match.start()])
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def _too_deep(parser: lxml.html.HTMLParser) -> bool:
    return any("Excessive depth" in (entry.message or "") for entry in parser.error_log)


def parse(text: str) -> lxml.html.HtmlElement | None:
    """The document tree of ``text``, or None when there is no markup to parse."""
    text = clean_text(_XML_DECLARATION.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(text, parser=_PARSER)
        if _too_deep(_PARSER) or _DEEPER(tree):
            tree = lxml.html.document_fromstring(flatten(text), parser=_PARSER)
    except (ParserError, ValueError):
        return None
    return tree if tree is not None and len(tree) else None


# Pages larger than this are refused whole ("page too large"): news pages are under 5 MB (the
# largest of the benchmarks' real pages is 1.7 MB), and extraction takes about a second a megabyte.
MAX_PAGE_SIZE = 10_000_000
# trafilatura collects every text run inside paragraphs (XPath ``//p//text()``) several times a
# page, in time that grows with the square of their number: 300 on the largest real pages measured,
# 60,000 take seconds each time. Above MAX_TEXT_RUNS, inline markup inside paragraphs is unwrapped
# (formatting first, then links), which joins the runs; a page still above MAX_PAGE_TEXT_RUNS
# (tens of thousands of paragraphs) is no article and is refused.
MAX_TEXT_RUNS = 5_000
MAX_PAGE_TEXT_RUNS = 30_000
_FORMATTING = (
    "b", "strong", "i", "em", "u", "s", "strike", "span", "font", "small", "big", "sup", "sub", "mark",
    "abbr", "cite", "q", "dfn", "code", "kbd", "samp", "var", "tt", "time", "ins", "del", "bdi", "bdo", "wbr",
)  # fmt: skip


_COUNT_TEXT = lxml.etree.XPath("count(.//text())")


def text_runs(tree: lxml.html.HtmlElement) -> int:
    """Number of text nodes inside the paragraphs of ``tree`` (as XPath counts them)."""
    return sum(int(_COUNT_TEXT(p)) if len(p) else bool(p.text) for p in tree.iter("p"))


def join_text_runs(tree: lxml.html.HtmlElement, limit: int = MAX_TEXT_RUNS) -> int:
    """Unwrap inline markup inside paragraphs while they hold more than ``limit`` text runs: the
    formatting elements first, then links. Returns the number of runs left; the text is unchanged."""
    runs = text_runs(tree)
    for tags in (_FORMATTING, ("a",)):
        if runs <= limit:
            break
        paragraphs = [p for p in tree.iter("p") if len(p)]
        for paragraph in paragraphs:
            lxml.etree.strip_tags(paragraph, *tags)
            # the unwrapped text stays in separate nodes until it is set again as one
            paragraph.text = paragraph.text
            for child in paragraph.iterdescendants():
                child.text, child.tail = child.text, child.tail
        if paragraphs:
            runs = text_runs(tree)
    return runs


def node_text(node: object) -> str:
    """Whitespace-normalised text of an element, or the string an XPath returned."""
    raw = node if isinstance(node, str) else lxml.html.HtmlElement.text_content(node)  # type: ignore[arg-type]
    return " ".join(str(raw).split())


def remove(node: lxml.html.HtmlElement) -> None:
    """Remove ``node`` but keep the text that follows it (its tail)."""
    if node.getparent() is not None:
        node.drop_tree()
