"""What a site or page says about text-and-data-mining and AI use of it: plain functions, no Scrapy.

Signals are strings ``signal:value``, kept in an Article's ``signals`` field so that exports can
filter on them:

- ``tdm-reservation:1`` and ``tdm-policy:<url>``: the W3C TDM Reservation Protocol (TDMRep), from
  the ``tdm-reservation`` / ``tdm-policy`` HTTP headers, the same-named HTML ``<meta>`` elements, or
  the site's ``/.well-known/tdmrep.json`` (:func:`parse_tdmrep`, :func:`tdmrep_for`);
- ``x-robots-tag:noai``, ``x-robots-tag:noimageai`` (the HTTP header) and ``meta-robots:noai``,
  ``meta-robots:noimageai`` (``<meta name="robots">``);
- ``content-signal:ai-train=no`` (one per pair): robots.txt ``Content-Signal:`` lines of the groups
  that apply to every crawler (https://contentsignals.org);
- ``robots:GPTBot``: robots.txt disallows the page to that AI crawler (:data:`AI_CRAWLERS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# Well-known AI crawlers' robots.txt product tokens: a page robots.txt disallows to one of them is
# recorded as ``robots:<token>``.
AI_CRAWLERS = (
    "GPTBot",
    "CCBot",
    "Google-Extended",
    "ClaudeBot",
    "anthropic-ai",
    "PerplexityBot",
    "Bytespider",
    "Applebot-Extended",
    "meta-externalagent",
)
# Values of X-Robots-Tag or <meta name="robots"> that reserve a page from AI use.
AI_ROBOTS_VALUES = frozenset({"noai", "noimageai"})
TDM_RESERVED = "tdm-reservation:1"

_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HEAD_END = re.compile(rb"</head\s*>|<body\b", re.IGNORECASE)
HEAD_SCAN = 512 * 1024  # a page's <head> is read this far at most


def _robots_values(value: str) -> list[str]:
    """The AI reservations in an X-Robots-Tag or robots meta value (``noai, noimageai``; a value
    may name a crawler first, ``otherbot: noai``)."""
    found = []
    for part in value.split(","):
        token = part.split(":")[-1].strip().lower()
        if token in AI_ROBOTS_VALUES:
            found.append(token)
    return found


def header_signals(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    """Signals of a response's HTTP headers (names any case; a header given more than once, once
    per value)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: list[str] = []
    for name, value in pairs:
        name = name.lower()
        if name == "x-robots-tag":
            found += [f"x-robots-tag:{v}" for v in _robots_values(value)]
        elif name == "tdm-reservation" and value.strip() == "1":
            found.append(TDM_RESERVED)
        elif name == "tdm-policy" and value.strip():
            found.append(f"tdm-policy:{value.strip()}")
    return found


def page_signals(html: bytes | str) -> list[str]:
    """Signals of a page's ``<meta>`` elements in its ``<head>``: ``tdm-reservation``, ``tdm-policy``
    and ``robots`` (noai, noimageai)."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    data = data[:HEAD_SCAN]
    end = _HEAD_END.search(data)
    if end:
        data = data[: end.start()]
    found: list[str] = []
    for tag in _META.findall(data):
        low = tag.lower()
        if b"tdm-" not in low and b"robots" not in low:  # none of the names below: not parsed
            continue
        attrs = {m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or b"") for m in _ATTR.finditer(tag)}
        name = attrs.get(b"name", b"").decode("latin-1").strip().lower()
        content = attrs.get(b"content", b"").decode("utf-8", "replace").strip()
        if name == "tdm-reservation" and content == "1":
            found.append(TDM_RESERVED)
        elif name == "tdm-policy" and content:
            found.append(f"tdm-policy:{content}")
        elif name == "robots":
            found += [f"meta-robots:{v}" for v in _robots_values(content)]
    return found


def content_signals(robots_txt: str, agents: Iterable[str] = ("*",)) -> list[str]:
    """``content-signal:<key>=<value>`` for each pair of the ``Content-Signal:`` lines in the
    robots.txt groups of ``agents`` (product tokens, any case; ``*`` the group for every crawler)."""
    wanted = {a.lower() for a in agents}
    group: set[str] = set()
    in_agents = False  # consecutive User-agent lines make one group
    found: list[str] = []
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        field, value = (p.strip() for p in line.split(":", 1))
        field = field.lower()
        if field == "user-agent":
            if not in_agents:
                group = set()
            group.add(value.lower())
            in_agents = True
            continue
        in_agents = False
        if field == "content-signal" and group & wanted:
            for pair in value.split(","):
                key, _, val = pair.partition("=")
                if key.strip() and val.strip():
                    found.append(f"content-signal:{key.strip().lower()}={val.strip().lower()}")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class TdmRule:
    """One rule of a ``tdmrep.json``: resources whose path matches ``location`` are reserved
    (``reservation`` 1) or not (0), with ``policy`` the URL of the rightsholder's TDM policy."""

    location: str
    reservation: int
    policy: str = ""

    def matches(self, url: str) -> bool:
        return bool(_location_pattern(self.location).match(_path_of(url)))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _location_pattern(location: str) -> re.Pattern[str]:
    """A tdmrep.json ``location``: a path pattern as in robots.txt: matched from the path's start,
    ``*`` any characters, a final ``$`` the URL's end."""
    anchored = location.endswith("$")
    body = location[:-1] if anchored else location
    if not body.startswith("/") and not body.startswith("*"):
        body = "/" + body
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in body) + ("$" if anchored else ""))


def parse_tdmrep(body: bytes | str) -> list[TdmRule]:
    """The rules of a ``/.well-known/tdmrep.json`` (a JSON array of ``{"location", "tdm-reservation",
    "tdm-policy"}``); malformed entries are left out, a malformed file gives no rule."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(data, list):
        return []
    rules = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("location"), str):
            continue
        try:
            reservation = int(entry.get("tdm-reservation", 0))
        except (TypeError, ValueError):
            continue
        if reservation not in (0, 1):
            continue
        policy = entry.get("tdm-policy")
        rules.append(TdmRule(entry["location"], reservation, policy if isinstance(policy, str) else ""))
    return rules


def tdmrep_for(url: str, rules: Iterable[TdmRule]) -> list[str]:
    """The signals of the first rule that matches ``url`` (the file's rules are read in order)."""
    for rule in rules:
        if rule.matches(url):
            if not rule.reservation:
                return []
            return [TDM_RESERVED, *([f"tdm-policy:{rule.policy}"] if rule.policy else [])]
    return []


def merged(*groups: Iterable[str]) -> list[str]:
    """Signals of several sources, each once, in order."""
    return list(dict.fromkeys(s for group in groups for s in group))
