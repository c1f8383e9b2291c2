"""TRT World (www.trtworld.com): the RSS feed, and the sitemaps its robots.txt names.

The site is a Next.js application whose CSS class names change between builds, so the rules lean on
markup semantics (article, figure, aside, time) and on line patterns. Metadata comes from JSON-LD
and Open Graph. Example: /article/29ff97a2a6ed
"""

from __future__ import annotations

from newsclean.sites import Site

SITE = Site(
    name="trtworld",
    domains=("trtworld.com",),
    feeds=("https://www.trtworld.com/feed/rss.xml",),
    sitemaps=("https://www.trtworld.com/robots.txt",),
    article_url=r"^https?://www\.trtworld\.com/(?:article/(?:[0-9a-f]{12}|\d{8})|[a-z-]+/[\w-]+-\d{5,})/?$",
    body=("//main//article",),
    prune=(
        "//article//header",
        "//article//figure",
        "//article//video",
        "//article//*[@role='toolbar']",
        "//article//aside",
        "//section[.//h2[normalize-space()='Explore']]",
        # The "RECOMMENDED" box inside the body: its label's parent, cards included.
        "//article//*[normalize-space(text())='RECOMMENDED']/..",
    ),
    drop_lines=(r"RECOMMENDED",),
    line_fields={"source": r"SOURCE:\s*(.+)"},
    fields={"title": "//main//article//h1", "subtitle": "//main//article//header//h2"},
)
