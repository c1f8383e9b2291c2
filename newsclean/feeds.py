"""RSS 2.0, Atom and sitemap parsing: URLs of articles with the dates their source gives."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree

_PARSER = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class Entry:
    """One link found in a feed or sitemap."""

    url: str
    title: str = ""
    published: str = ""
    updated: str = ""


def _local(tag: object) -> str:
    return lxml.etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(node: lxml.etree._Element, *names: str) -> str:
    for child in node:
        if _local(child.tag) in names and (child.text or "").strip():
            return child.text.strip()
    return ""


def _root(body: bytes) -> lxml.etree._Element | None:
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return None
    try:
        root = lxml.etree.fromstring(body.strip(), parser=_PARSER)
    except lxml.etree.XMLSyntaxError:
        return None
    return root


def parse_feed(body: bytes, base_url: str) -> list[Entry]:
    """Entries of an RSS 2.0, RSS 1.0 or Atom feed; relative links resolved against ``base_url``."""
    root = _root(body)
    if root is None:
        return []
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
                    url=urljoin(base_url, link.strip()),
                    title=_child_text(node, "title"),
                    published=_child_text(node, "pubdate", "published", "date", "issued"),
                    updated=_child_text(node, "updated", "modified"),
                )
            )
    return entries


def parse_sitemap(body: bytes, base_url: str) -> tuple[list[Entry], list[Entry]]:
    """(pages, sub-sitemaps) of a sitemap or sitemap index, news sitemaps included."""
    root = _root(body)
    if root is None:
        return [], []
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
            url=urljoin(base_url, loc),
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
            urls.append(urljoin(base_url, value.strip()))
    return urls


def looks_like_feed(body: bytes) -> bool:
    """True when ``body`` is an RSS or Atom document rather than a sitemap."""
    root = _root(body)
    return root is not None and _local(root.tag) in ("rss", "feed", "rdf")
