"""Bylines printed as a line of the body: names only, at the top or the bottom of the text.

Many pages print the byline as a paragraph of their own (``Mohloai Mpesi``, ``Ann Lee/Bo Chan``,
``By Ann Lee``) just before or after the article. It is not article text: when it names the
article's authors it leaves the text, and when the page's metadata names no person (only the site,
or nothing) it is where the authors are read from.
"""

from __future__ import annotations

import re

from newsclean.extraction.fields import clean_authors
from newsclean.extraction.result import Removal

# Where a byline line is looked for: the first HEAD_LINES and the last TAIL_LINES of the text; one
# that names the known authors may also follow a lead paragraph or two (KNOWN_HEAD_LINES).
HEAD_LINES = 3
KNOWN_HEAD_LINES = 5
TAIL_LINES = 2
MAX_BYLINE_CHARS = 80
# A name: two to four words, each capitalised (letters, hyphens, apostrophes, a dot for initials),
# name particles (von, van, de, da, del, bin, al) allowed between them.
_WORD = r"[^\W\d_][^\W\d_'’.-]*\.?"
_PARTICLE = r"(?:von|van|der|den|de|da|del|della|di|du|la|le|bin|al|el|ten|ter)"
_NAME = re.compile(rf"(?:{_WORD})(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{1,3}}")
_SEPARATORS = re.compile(r"\s*(?:/|,|;|&|\band\b|\bund\b)\s*", re.IGNORECASE)
_PREFIX = re.compile(r"^(?:by|von|text|texto|por|par|av|af|door|di|da|from)\s*:?\s+", re.IGNORECASE)


def names(line: str) -> list[str]:
    """The names a byline line gives, or [] when the line is anything else."""
    if len(line) > MAX_BYLINE_CHARS:
        return []
    parts = [p for p in _SEPARATORS.split(_PREFIX.sub("", line.strip())) if p]
    if not parts or not all(_NAME.fullmatch(p) and _capitalised(p) for p in parts):
        return []
    return parts


def _capitalised(name: str) -> bool:
    words = [w for w in name.split() if not re.fullmatch(_PARTICLE, w)]
    return all(w[0].isupper() for w in words) and not all(w.isupper() and len(w) > 1 for w in words)


def take(lines: list[str], authors: list[str], site: set[str], removed: list[Removal]) -> tuple[list[str], list[str]]:
    """``lines`` without a byline line, and the authors: ``authors`` when given, else the names the
    byline line at the top of the text gives (the site's own name is never a person: ``site``)."""
    known = {a.casefold() for a in authors}
    head = KNOWN_HEAD_LINES if known else HEAD_LINES
    positions = [*range(min(head, len(lines))), *range(max(head, len(lines) - TAIL_LINES), len(lines))]
    for i in positions:
        found = names(lines[i])
        if not found:
            continue
        if known and {n.casefold() for n in found} <= known:
            removed.append(("byline in the text", lines[i]))
            return lines[:i] + lines[i + 1 :], authors
        if not known and i < HEAD_LINES and (people := clean_authors(found, site)) and len(people) == len(found):
            removed.append(("byline in the text, taken as the authors", lines[i]))
            return lines[:i] + lines[i + 1 :], people
    return lines, authors


# The author's biography printed after the story: among the last BIO_LINES lines, one that names
# an author (a word of the name) and a journalist's role, or that follows an "About the author"
# heading; it and what follows it go.
BIO_LINES = 3
MAX_BIO_CHARS = 600
_ROLE = re.compile(
    r"\b(?:journalist|reporter|editor|correspondent|columnist|writer|contributor|journalistin|redakteur(?:in)?|"
    r"korrespondent(?:in)?|autor(?:in)?|kolumnist(?:in)?|journaliste|rédact(?:eur|rice)|correspondant|"
    r"chroniqueu(?:r|se)|periodista|corresponsal|redactor(?:a)?|giornalista|corrispondente|journalist(?:en)?|"
    r"dziennikar(?:z|ka)|novinář(?:ka)?)\b",
    re.IGNORECASE,
)
_BIO_HEADING = re.compile(
    r"(?:about the authors?|the author|die autorin|der autor|die autoren|zur person|über (?:die|den) autor(?:in)?|"
    r"à propos de l'auteur|l'auteur|sobre el autor|el autor|la autora|l'autore|om forfatteren)\s*:?",
    re.IGNORECASE,
)


def drop_bio(lines: list[str], authors: list[str], removed: list[Removal]) -> list[str]:
    """``lines`` without the author's biography at their end (see :data:`BIO_LINES`)."""
    words = {w.casefold() for a in authors for w in re.findall(r"[^\W\d_]{3,}", a)}
    start = max(1, len(lines) - BIO_LINES)
    for i in range(start, len(lines)):
        line = lines[i]
        heading = bool(_BIO_HEADING.fullmatch(line)) and i + 1 < len(lines)
        named = len(line) <= MAX_BIO_CHARS and bool(words) and bool(_ROLE.search(line))
        if heading or (named and {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", line)} & words):
            removed.extend(("author biography", gone) for gone in lines[i:])
            return lines[:i]
    return lines
