"""A site, declared once, as data: where its articles are listed and what extraction needs beyond the
generic path. Nothing here imports Scrapy, so extraction and its workers read the same declaration
the crawl does.

A site is one module in the ``spiders`` package holding ``SITE = Site(...)``; the crawl makes a
spider of it (:mod:`newsclean.crawl.sites`) and extraction applies its rules to the pages on its
domains (:mod:`newsclean.registry`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

RENDER_WHEN = ("no_article", "always")


@dataclass(frozen=True)
class Render:
    """How a site's article pages are rendered in a headless browser (``Site(render=Render(...))``).

    - ``when``: ``"no_article"`` (a page is rendered when extraction of the page as fetched finds
      no article in it, or one shorter than ``NEWSCLEAN_MIN_WORDS``) or ``"always"`` (every article
      page fetched is rendered too, and only the rendered page is extracted; when its rendering
      fails, the page is counted as a failed rendering, not stored).
    - ``wait_for``: a CSS selector the rendered page must show before it is read (the article's
      paragraphs, say); empty: the page is read once it has loaded.
    - ``timeout``: seconds the page may take to show ``wait_for``, at most the crawl's
      ``DOWNLOAD_TIMEOUT``; a page that does not is counted as a failed rendering.
    - ``hosts``: hosts besides the site's ``domains`` (subdomains included) that the browser may
      load the page's scripts and data from (a CDN); every other host is blocked.
    """

    when: str = "no_article"
    wait_for: str = ""
    timeout: float = 10.0
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.when not in RENDER_WHEN:
            raise ValueError(f"Render(when={self.when!r}): one of {', '.join(RENDER_WHEN)}")
        if not self.timeout > 0:
            raise ValueError(f"Render(timeout={self.timeout!r}): a positive number of seconds")


@dataclass(frozen=True)
class Site:
    """One site; every part but ``name`` is optional.

    Finding articles (read by the crawl):

    - ``domains``: host names of the site (subdomains included): its rules apply there, and its
      spider follows links there only.
    - ``feeds``: RSS or Atom feeds. ``sitemaps``: sitemaps, sitemap indexes, or robots.txt (its
      ``Sitemap:`` lines are followed). ``listings``: section pages whose links are followed.
    - ``article_url``: regular expression searched in a URL: the pages to extract articles from.
    - ``spider``: a plain class (no Scrapy needed) whose methods override the spider's, for a site
      that needs more than data (another way to find its article links, say).
    - ``min_delay``: seconds between two requests to the site at least; AutoThrottle never goes
      below it (nor below ``NEWSCLEAN_MIN_DELAY`` or the site's robots.txt ``Crawl-delay``).
    - ``render``: a :class:`Render` when the site's article pages may need JavaScript to show their
      text: such a page is fetched as any other, and fetched again through a headless browser when
      extraction finds no article in it (see :class:`Render`). None (the default): never rendered.

    Extraction rules (read by :mod:`newsclean.extraction`):

    - ``body``: XPaths whose matches, in document order, hold the article body. When they match,
      extraction looks at nothing else; when they match nothing (a new layout), the generic path
      takes over and the article says so in ``method``.
    - ``prune``: XPaths of elements removed before extraction (captions, related boxes, widgets).
    - ``drop_lines``: regular expressions; a body line that matches one in full is removed.
    - ``fields``: Article field -> XPath read from the page, trusted above any other source
      (``authors`` and ``tags`` take every match, the other fields the first non-empty one).
    - ``line_fields``: Article field -> regular expression with one group; the first body line that
      matches in full is removed from the text and its group becomes the field (``SOURCE: AFP``).
    """

    name: str
    domains: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_url: str = r"."
    body: tuple[str, ...] = ()
    prune: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    line_fields: Mapping[str, str] = field(default_factory=dict)
    spider: type | None = field(default=None, compare=False)
    min_delay: float = 0.0
    render: Render | None = None

    @cached_property
    def drop_line_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.drop_lines)

    @cached_property
    def line_field_patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((name, re.compile(p)) for name, p in self.line_fields.items())

    @cached_property
    def article_url_pattern(self) -> re.Pattern[str]:
        return re.compile(self.article_url)

    def matches(self, url: str | None) -> bool:
        """True when ``url``'s host is one of ``domains`` or a subdomain of one."""
        return host_in(url, self.domains)

    def is_article(self, url: str) -> bool:
        """True when ``url`` is an article page of this site (``article_url`` matches it)."""
        return bool(self.article_url_pattern.search(url))


GENERIC = Site(name="generic")
"""No site: the generic path alone."""


def host_in(url: str | None, domains: tuple[str, ...] | list[str]) -> bool:
    """True when ``url``'s host is one of ``domains`` or a subdomain of one (False for a malformed URL)."""
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def has_class(name: str) -> str:
    """XPath predicate body: the element's class attribute holds the token ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
