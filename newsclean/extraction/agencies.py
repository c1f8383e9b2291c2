"""News agencies: which agency an article comes from, from every signal its page gives.

Signals, each recorded in the article's ``source_evidence`` as ``signal:name``:

- ``site_rules``: a site's own rule for its credit line (a ``line_fields`` ``source``);
- ``byline``: a byline that is an agency (``AFP``, ``TRT World & Agencies``);
- ``json_ld``: a JSON-LD ``author``, ``creator`` or ``sourceOrganization`` of type Organization that
  names a known agency;
- ``dateline``: ``MOSCOW (Reuters) -``, ``(AP) —``, ``KYIV, Dec 27 (AFP) -`` opening the text;
- ``credit``: a Reuters credit line, ``(Reporting by ...; Editing by ...)``;
- ``copyright``: a notice naming an agency, ``© dpa-infocom``, ``Copyright 2024 The Associated Press``;
- ``trailer``: the text's end naming the agency, ``... said. — AFP`` or a last line ``AFP``;
- ``source_line``: a ``SOURCE: ...`` line;
- ``cluster``: the article is a wire copy of a page on the agency's own site (set by the store).

Names are normalised (``Agence France-Presse`` -> ``AFP``); a credit that names no known agency
(``TRT World & Agencies``) is kept as written. Plain functions; nothing here imports Scrapy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from newsclean.extraction import xpaths
from newsclean.extraction.result import Removal
from newsclean.urls import hostname


@dataclass(frozen=True)
class Agency:
    """A news agency: its normalised name, the names pages credit it by, and its own sites."""

    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...] = ()


# The README's table of agencies is generated from this (``agency_table``).
AGENCIES: tuple[Agency, ...] = (
    Agency("AFP", ("AFP", "Agence France-Presse", "Agence France Presse", "AFP News"), ("afp.com",)),
    Agency("AP", ("AP", "Associated Press", "The Associated Press", "AP News"), ("apnews.com", "ap.org")),
    Agency("Reuters", ("Reuters", "Thomson Reuters", "Reuters News"), ("reuters.com",)),
    Agency("dpa", ("dpa", "dpa-infocom", "dpa-AFX", "Deutsche Presse-Agentur"), ("dpa.com", "dpa-international.com")),
    Agency("Anadolu", ("Anadolu", "Anadolu Agency", "Anadolu Ajansı", "AA"), ("aa.com.tr",)),
    Agency("Bloomberg", ("Bloomberg", "Bloomberg News"), ("bloomberg.com",)),
    Agency("Interfax", ("Interfax", "Interfax-Ukraine"), ("interfax.ru", "interfax.com", "interfax.com.ua")),
    Agency("TASS", ("TASS", "ITAR-TASS"), ("tass.com", "tass.ru")),
    Agency("RIA Novosti", ("RIA Novosti", "RIA-Novosti"), ("ria.ru",)),
    Agency("Xinhua", ("Xinhua", "Xinhua News Agency"), ("xinhuanet.com", "news.cn")),
    Agency("EFE", ("EFE", "Agencia EFE"), ("efe.com",)),
    Agency("ANSA", ("ANSA",), ("ansa.it",)),
    Agency("UPI", ("UPI", "United Press International"), ("upi.com",)),
    Agency("PA Media", ("PA Media", "PA", "Press Association"), ("pamediagroup.com",)),
    Agency("Kyodo", ("Kyodo", "Kyodo News"), ("kyodonews.net",)),
    Agency("Yonhap", ("Yonhap", "Yonhap News Agency"), ("yna.co.kr",)),
    Agency("Ukrinform", ("Ukrinform",), ("ukrinform.net", "ukrinform.ua")),
)
_BY_ALIAS = {alias.casefold(): agency.name for agency in AGENCIES for alias in agency.aliases}
_ALIASES = "|".join(
    re.escape(a) for a in sorted((a for agency in AGENCIES for a in agency.aliases), key=len, reverse=True)
)
# Opening the text: a place (and date) in capitals or title case, the agency in parentheses, a dash.
DATELINE = re.compile(rf"^[^()\n]{{0,80}}?\((?P<name>{_ALIASES})\)\s*[-—–:]\s*\S")
# A trailer: the text's last paragraph ends with a dash (or slash) and the agency, or is the agency alone.
TRAILER_END = re.compile(rf"(?:^|[.!?\"”’)]\s*)[-—–/]\s*\(?(?P<name>{_ALIASES})\)?\s*\.?$")
TRAILER_LINE = re.compile(rf"^[-—–/]?\s*\(?(?P<name>{_ALIASES})\)?\s*\.?$")
# A credit line of the kind Reuters ends every story with; removed from the text.
CREDIT_LINE = re.compile(
    r"^\(?\s*(?:(?:additional )?reporting|writing|compiled|edited|editing)(?: and [a-z]+)? by\b[^()]{2,400}\)?\.?$",
    re.IGNORECASE,
)
REUTERS_CREDIT = re.compile(r"\bEditing by\b", re.IGNORECASE)
# A notice naming an agency (the line itself is already removed as boilerplate).
COPYRIGHT = re.compile(rf"(?:©|\(c\)|copyright)\s*(?:\d{{4}}\s*)?(?P<name>{_ALIASES})\b", re.IGNORECASE)
# A source line: "SOURCE: AFP", "Source: TRT World and agencies"; removed from the text.
SOURCE_LINE = re.compile(r"^(?:SOURCE|Source)\s*:\s*(?P<name>[^.:]{2,80}?)\s*\.?$")
# How many lines at the start a dateline may open, and at the end a trailer may close.
HEAD_LINES = 2
TAIL_LINES = 3


def normalise(name: str) -> str:
    """An agency's normalised name (``Agence France-Presse`` -> ``AFP``); other credits as written."""
    name = " ".join(name.split()).strip(" .,;:-—–/()")
    return _BY_ALIAS.get(name.casefold(), name)


def is_agency(name: str) -> bool:
    """True when ``name`` names a known agency."""
    return normalise(name) in {a.name for a in AGENCIES}


def agency_for_url(url: str) -> str:
    """The agency whose own site ``url`` is on (``https://www.reuters.com/...`` -> ``Reuters``), else ``""``."""
    host = hostname(url).lower()  # "" for a URL that does not parse
    for agency in AGENCIES:
        if any(host == d or host.endswith("." + d) for d in agency.domains):
            return agency.name
    return ""


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    return {str(k) for k in (kind if isinstance(kind, list) else [kind])}


def from_json_ld(tree: HtmlElement) -> list[str]:
    """Known agencies a page's JSON-LD credits as ``author``, ``creator`` or ``sourceOrganization``
    of type Organization (normalised, in page order)."""
    found: list[str] = []
    for raw in tree.xpath(xpaths.JSON_LD):
        try:
            data = json.loads(raw.strip().rstrip(";"))
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not isinstance(node, dict):
                continue
            if isinstance(node.get("@graph"), list):
                stack.extend(node["@graph"])
            for key in ("author", "creator", "sourceOrganization"):
                values = node.get(key)
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, dict) and _types(value) & {"Organization", "NewsMediaOrganization"}:
                        name = value.get("name")
                        if isinstance(name, str) and is_agency(name):
                            found.append(normalise(name))
    return list(dict.fromkeys(found))


@dataclass
class Signals:
    """What the text said about its agency: ``(signal, name)`` pairs, in the order found."""

    found: list[tuple[str, str]] = field(default_factory=list)


def scan(lines: list[str], removed: list[Removal]) -> tuple[list[str], Signals]:
    """Agency signals in the body ``lines`` (and in the copyright notices already removed from them);
    source and credit lines are taken out of the text (recorded in ``removed``)."""
    signals = Signals()
    for rule, text in removed:
        if rule.startswith("boilerplate") and (hit := COPYRIGHT.search(text)):
            signals.found.append(("copyright", normalise(hit.group("name"))))
    kept: list[str] = []
    tail_from = len(lines) - TAIL_LINES
    for i, line in enumerate(lines):
        if hit := SOURCE_LINE.match(line):
            signals.found.append(("source_line", normalise(hit.group("name"))))
            removed.append(("agencies:source_line", line))
            continue
        if i >= tail_from and CREDIT_LINE.match(line):
            if REUTERS_CREDIT.search(line):
                signals.found.append(("credit", "Reuters"))
            removed.append(("agencies:credit_line", line))
            continue
        if i >= tail_from and (hit := TRAILER_LINE.match(line)):
            signals.found.append(("trailer", normalise(hit.group("name"))))
            removed.append(("agencies:trailer", line))
            continue
        kept.append(line)
    for line in kept[:HEAD_LINES]:
        if hit := DATELINE.match(line):
            signals.found.insert(0, ("dateline", normalise(hit.group("name"))))
            break
    if kept and (hit := TRAILER_END.search(kept[-1])):
        signals.found.append(("trailer", normalise(hit.group("name"))))
    return kept, signals


@dataclass
class Attribution:
    """The article's ``source`` and the evidence for it."""

    source: str = ""
    evidence: list[str] = field(default_factory=list)


def attribute(
    signals: Signals,
    *,
    site_rules: str = "",
    byline: str = "",
    json_ld: Sequence[str] = (),
    meta_source: str = "",
) -> Attribution:
    """``source`` from every signal: the names they give, normalised, each once, strongest first
    (the site's own rule, the byline, JSON-LD, then what the text says), joined by ``", "``."""
    found: list[tuple[str, str]] = []
    found += [("site_rules", n) for n in _split(site_rules)]
    found += [("byline", n) for n in _split(byline)]
    found += [("json_ld", n) for n in [*json_ld, *_split(meta_source)]]
    found += signals.found
    evidence = list(dict.fromkeys(f"{signal}:{normalise(name)}" for signal, name in found if normalise(name)))
    names = list(dict.fromkeys(normalise(name) for _, name in found if normalise(name)))
    return Attribution(", ".join(names), evidence)


def _split(credit: str) -> list[str]:
    """A joined credit (``"AFP, Reuters"``) as names; a credit naming no known agency kept whole."""
    parts = [p for p in (c.strip() for c in credit.split(",")) if p]
    return parts if all(is_agency(p) for p in parts) else ([credit.strip()] if credit.strip() else [])


def with_cluster_agency(source: str, evidence: Iterable[str], agency: str) -> tuple[str, list[str]]:
    """``source`` and its evidence once the article is known to be a copy of ``agency``'s own page."""
    names = [n for n in (p.strip() for p in source.split(",")) if n] if source else []
    evidence = list(evidence)
    if f"cluster:{agency}" not in evidence:
        evidence.append(f"cluster:{agency}")
    if agency not in names:
        names.append(agency)
    return ", ".join(names), evidence


def agency_table() -> str:
    """The README's table: normalised name, names credited, own sites."""
    rows = ["| `source` | credited as | own sites (cluster signal) |", "|---|---|---|"]
    for agency in AGENCIES:
        rows.append(f"| `{agency.name}` | {', '.join(agency.aliases)} | {', '.join(agency.domains)} |")
    return "\n".join(rows) + "\n"
