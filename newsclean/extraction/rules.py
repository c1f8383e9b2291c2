"""Site rules: what one site needs beyond generic extraction, declared as data."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from newsclean.urls import hostname


@dataclass(frozen=True)
class SiteRules:
    """Declarative extraction rules for one site; every part is optional.

    - ``domains``: host names the rules apply to (subdomains included).
    - ``body``: XPaths whose matches, in document order, hold the article body; when they match,
      extraction looks at nothing else.
    - ``prune``: XPaths of elements removed before extraction (captions, related boxes, widgets).
    - ``drop_lines``: regular expressions; a body line that matches one in full is removed.
    - ``fields``: Article field -> XPath read from the page, trusted above any other source
      (``authors`` and ``tags`` take every match, the other fields the first non-empty one).
    - ``line_fields``: Article field -> regular expression with one group; the first body line that
      matches in full is removed from the text and its group becomes the field (``SOURCE: AFP``).
    """

    name: str
    domains: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    prune: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    line_fields: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def drop_line_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.drop_lines)

    @cached_property
    def line_field_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((name, re.compile(p)) for name, p in self.line_fields.items())

    def matches(self, url: str | None) -> bool:
        """True when ``url``'s host is one of ``domains`` or a subdomain of one."""
        host = hostname(url)
        return any(host == d or host.endswith("." + d) for d in self.domains)


GENERIC = SiteRules(name="generic")


def pick_rules(url: str | None, known: Iterable[SiteRules]) -> SiteRules:
    """The rules among ``known`` whose domains match ``url``; :data:`GENERIC` when none do."""
    for rules in known:
        if rules.matches(url):
            return rules
    return GENERIC


def has_class(name: str) -> str:
    """XPath predicate body: the element's class attribute holds the token ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
