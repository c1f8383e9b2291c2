"""RSS 2.0, Atom and sitemap parsing: URLs of articles with the dates their source gives."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree

# A gzip-compressed sitemap may hold 50 MB (the sitemaps protocol's limit); past that it is not read.
MAX_DECOMPRESSED = 50 * 1024 * 1024
_PARSER = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class Entry:
    """One link found in a feed or sitemap."""

    url: str
    title: str = ""
    published: str = ""
    updated: str = ""


def _join(base_url: str, link: str) -> str:
    """``link`` made absolute against ``base_url``; a malformed one (``http://[::1``) as it is (the
    crawl refuses it), so that one bad link does not lose the whole feed."""
    try:
        return urljoin(base_url, link)
    except ValueError:
        return link


def _local(tag: object) -> str:
    return lxml.etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(node: lxml.etree._Element, *names: str) -> str:
    for child in node:
        if _local(child.tag) in names and (child.text or "").strip():
            return child.text.strip()
    return ""


def _gunzip(body: bytes, limit: int = MAX_DECOMPRESSED) -> bytes | None:
    """``body`` decompressed, or None when it is not gzip or would expand past ``limit`` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        return None
    return data if len(data) <= limit else None


def _root(body: bytes) -> lxml.etree._Element | None:
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
        if body is None:
            return None
    try:
        root = lxml.etree.fromstring(body.strip(), parser=_PARSER)
    except lxml.etree.XMLSyntaxError:
        return None
    return root


@dataclass(frozen=True)
class Index:
    """What a feed or sitemap lists: ``kind`` (``feed``, ``sitemap``, or ``""`` for a document that is
    neither), the article pages, and the sitemaps a sitemap index names."""

    kind: str
    pages: list[Entry] = field(default_factory=list)
    sitemaps: list[Entry] = field(default_factory=list)


FEED_ROOTS = ("rss", "feed", "rdf")


def parse_index(body: bytes, base_url: str) -> Index:
    """An RSS 2.0, RSS 1.0 or Atom feed, a sitemap or a sitemap index (news sitemaps included), told
    apart by its root element and parsed once; relative links resolved against ``base_url``.

    Sites list feeds as sitemaps and the other way round: whichever the document is, it is read as that.
    """
    root = _root(body)
    if root is None:
        return Index("")
    if _local(root.tag) in FEED_ROOTS:
        return Index("feed", _feed_entries(root, base_url))
    pages, sitemaps = _sitemap_entries(root, base_url)
    return Index("sitemap", pages, sitemaps)


def _feed_entries(root: lxml.etree._Element, base_url: str) -> list[Entry]:
    entries = []
    for node in root.iter():
        kind = _local(node.tag)
        if kind == "item":
            link = _child_text(node, "link") or _child_text(node, "guid")
        elif kind == "entry":
            links = [c for c in node if _local(c.tag) == "link" and c.get("rel", "alternate") == "alternate"]
            link = links[0].get("href", "") if links else ""
        else:
            continue
        if link:
            entries.append(
                Entry(
                    url=_join(base_url, link.strip()),
                    title=_child_text(node, "title"),
                    published=_child_text(node, "pubdate", "published", "date", "issued"),
                    updated=_child_text(node, "updated", "modified"),
                )
            )
    return entries


def _sitemap_entries(root: lxml.etree._Element, base_url: str) -> tuple[list[Entry], list[Entry]]:
    pages: list[Entry] = []
    sitemaps: list[Entry] = []
    for node in root:
        kind = _local(node.tag)
        if kind not in ("url", "sitemap"):
            continue
        loc = _child_text(node, "loc")
        if not loc:
            continue
        news = next((c for c in node if _local(c.tag) == "news"), None)
        entry = Entry(
            url=_join(base_url, loc),
            title=_child_text(news, "title") if news is not None else "",
            published=_child_text(news, "publication_date") if news is not None else "",
            updated=_child_text(node, "lastmod"),
        )
        (sitemaps if kind == "sitemap" else pages).append(entry)
    return pages, sitemaps


def sitemaps_from_robots(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs a robots.txt names."""
    urls = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            urls.append(_join(base_url, value.strip()))
    return urls
