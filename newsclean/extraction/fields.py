"""Cleaning the metadata a page gives: titles without the site's name, bylines split into people.

Plain functions on strings; they know nothing of where the values were read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from newsclean.urls import hostname

# Separators between a headline and the site's name or section in <title> / og:title
# ("Headline | Site", "Headline - Site", "Headline ㅣ Site" on Korean sites).
_TITLE_SEPARATOR = re.compile(r"(\s+[|\-–—·•»]\s+|\s*[|ㅣ]\s*)")
_DATE_SEGMENT = re.compile(r"[\d\s./-]+")
# A segment that is a host name ("Golem.de", "SZ.de", "Metro.co.uk"): the site's name as its address.
_HOST_SEGMENT = re.compile(r"(?:www\.)?[^\W_][\w-]*(?:\.[\w-]+)*\.[a-z]{2,6}", re.IGNORECASE)

# "and" in the languages of the bylines news sites print; a byline is split on one only when every
# part is a full name (two words or more), so that "José Ortega y Gasset" stays one name.
_CONJUNCTION = re.compile(r"\s+(?:and|und|og|och|et|en|y|e|i|ja|и|&)\s+", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;|·•]|\s-\s)\s*")
# A slash between names ("Ann Lee/Bo Chan", "dpa/AFP"); not looked for in a value holding a URL.
_SLASH = re.compile(r"\s*/\s*")
# What a byline prints before the names ("By", "Von", "Autor:", "Text:").
_BYLINE_PREFIX = re.compile(
    r"^(?:by|von|autor(?:in)?|autor\(in\)|autoren|text|texto|por|par|av|af|door|di|da|from|written by)"
    r"\s*:?\s+|^(?:autor(?:in)?|text|texto|author)\s*:\s*",
    re.IGNORECASE,
)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
# "... mit Agenturen" after a name: the desk's credit for agency copy, no part of the name (the English
# "X & Agencies", "X with agencies" is a credit of its own: AGENCIES).
_WITH_AGENCIES = re.compile(r"\s+(?:mit|y|avec|con)\s+(?:agenturen|agencias|agences|agenzie)$", re.IGNORECASE)
# A part of a byline that credits someone else than the writer ("Fotos: Ben Bild"), or that is only
# the writer's role ("Anna Muster | Korrespondentin").
_OTHER_CREDIT = re.compile(
    r"^(?:fotos?|photos?|bilder?|illustrations?|grafik|infografik|video|kamera|camera|images?)\s*:", re.IGNORECASE
)
_ROLE_ONLY = re.compile(
    r"(?:senior |chief |staff |political |foreign |news )?(?:journalist(?:in)?|reporter(?:in)?|editor|correspondent|"
    r"columnist|writer|contributor|redakteur(?:in)?|korrespondent(?:in)?|kolumnist(?:in)?|journaliste|"
    r"rédact(?:eur|rice)|correspondante?|periodista|corresponsal|redactora?|giornalista|corrispondente)",
    re.IGNORECASE,
)
# A role printed after the name in Korean, Japanese and Chinese bylines ("신현주 기자": reporter).
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|논설위원|記者|特派員|记者)$")
# A JSON-LD Person printed as text: "{'@type': 'Person', 'name': 'Ann Lee'}".
_PRINTED_NAME = re.compile(r"""['"]name['"]\s*:\s*['"]([^'"]+)['"]""")
MAX_NAME_CHARS = 80

# Bylines that name a news agency rather than a person. Matched on the whole name.
AGENCIES = re.compile(
    r"(?i)^(?:AFP|Agence France[- ]Presse|AP|The Associated Press|Associated Press|Reuters|"
    r"Bloomberg|Interfax|TASS|RIA Novosti|Xinhua|dpa|EFE|ANSA|UPI|PA Media|Kyodo|Yonhap|"
    r"Anadolu(?: Agency)?|AA|Agencies|Agenturen|Agences|Agencias|Agenzie|.+ (?:&|and) Agencies|.+ with agencies)$"
)


def unescape(text: str) -> str:
    """``text`` with HTML entities resolved (twice-escaped ones too) and whitespace normalised."""
    for _ in range(3):
        if "&" not in text:
            break
        resolved = html.unescape(text)
        if resolved == text:
            break
        text = resolved
    return " ".join(text.split())


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def site_keys(names: Iterable[str], url: str | None) -> set[str]:
    """Comparison keys of the names a site goes by: its declared names and its host name's forms."""
    keys = {_key(n) for n in names}
    host = hostname(url).removeprefix("www.")  # "" for a URL that does not parse
    if host:
        labels = host.split(".")
        keys |= {_key(host), _key(labels[0]), _key(".".join(labels[:-1]))}
    return {k for k in keys if len(k) >= 2}


def _names_site(segment: str, keys: set[str]) -> bool:
    key = _key(segment)
    if not key:
        return True
    return key in keys or any(len(k) >= 4 and k in key and len(key) <= len(k) + 12 for k in keys)


def strip_site_name(title: str, keys: set[str], sections: Iterable[str] = ()) -> str:
    """``title`` without leading or trailing segments that name the site (by one of its names or its
    address), give a date, or are exactly the page's section (``sections``): ``Headline | Site``,
    ``Site - Headline``, ``Headline | DW | 28.04.2023``, ``Headline | Politik | tagesschau.de``."""
    section_keys = {_key(s) for s in sections if _key(s)}
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 3:
        return title
    segments, separators = parts[0::2], parts[1::2]

    def junk(segment: str) -> bool:
        segment = segment.strip()
        return (
            _names_site(segment, keys)
            or _key(segment) in section_keys
            or bool(_DATE_SEGMENT.fullmatch(segment))
            or bool(_HOST_SEGMENT.fullmatch(segment))
        )

    while len(segments) > 1 and junk(segments[-1]):
        segments.pop()
        separators.pop()
    while len(segments) > 1 and junk(segments[0]):
        segments.pop(0)
        separators.pop(0)
    out = segments[0]
    for separator, segment in zip(separators, segments[1:], strict=True):
        out += separator + segment
    return out.strip()


def clean_title(title: str, keys: set[str], others: Iterable[str] = (), sections: Iterable[str] = ()) -> str:
    """``title`` unescaped, without the site's name, and without a trailing segment that the page's
    other title sources (its ``<h1>``) leave off: ``„Einsatz“ - Die Neue Zeitung`` beside an h1
    ``„Einsatz“`` is the headline ``„Einsatz“``."""
    if not title:
        return ""
    title = strip_site_name(unescape(title), keys, sections)
    for other in others:
        other = unescape(other)
        if len(other) >= 8 and title.startswith(other) and _TITLE_SEPARATOR.match(title[len(other) :]):
            return other
    return title


def _split_byline(value: str) -> list[str]:
    parts = [p for p in _LIST_SEPARATOR.split(value) if p.strip()]
    if "://" not in value:
        parts = [piece for part in parts for piece in _SLASH.split(part) if piece.strip()]
    names: list[str] = []
    for part in parts:
        pieces = _CONJUNCTION.split(part)
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        else:
            names.append(part)
    return names


def _clean_name(name: str) -> str:
    name = unescape(name)
    if printed := _PRINTED_NAME.search(name):
        name = printed.group(1)
    name = _PARENTHESES.sub("", name)
    name = _WITH_AGENCIES.sub("", _BYLINE_PREFIX.sub("", name)).strip(" \t,;:.-–—|")
    return _ROLE_SUFFIX.sub("", name) or name


def _is_name(name: str, site: set[str]) -> bool:
    if not name or len(name) > MAX_NAME_CHARS or not re.search(r"[^\W\d_]", name):
        return False
    if "@" in name or "://" in name or name.startswith("www.") or re.search(r"\d", name):
        return False
    if name.startswith(("{", "[")) or _OTHER_CREDIT.match(name) or _ROLE_ONLY.fullmatch(name):
        return False
    if name.isascii() and " " not in name and len(name) <= 3 and not AGENCIES.match(name):
        return False  # an editor's initials or "Red." (editorial staff), not a name
    return _key(name) not in site


def clean_authors(values: Iterable[str], site: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """People named by ``values`` (bylines or names): split on commas and the word "and", prefixes
    (``By``, ``Von``) and parenthesised initials removed, e-mail addresses, URLs, numbers, printed
    JSON and the site's own name (``site``: keys from :func:`site_keys`) left out, duplicates once."""
    found: list[str] = []
    for value in values:
        if not value:
            continue
        value = unescape(value)
        if printed := _PRINTED_NAME.findall(value):
            candidates = printed
        else:
            candidates = _split_byline(_BYLINE_PREFIX.sub("", value))
        for candidate in candidates:
            name = _clean_name(candidate)
            if _is_name(name, site):
                found.append(name)
    return list(dict.fromkeys(found))


def is_site_name(name: str, site: set[str]) -> bool:
    return _key(name) in site
