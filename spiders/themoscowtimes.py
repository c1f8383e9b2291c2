"""The Moscow Times (www.themoscowtimes.com): RSS feeds and monthly sitemaps.

Page structure from the site's published templates: the body is ``div.article__content`` (after an
optional ``div.article__intro``); images, in-body "Related article" boxes, the opinion disclaimer
and tags sit inside it and are pruned. Example: /2024/12/27/ukraine-captured-north-korean-soldier-
fighting-alongside-russia-south-korea-says-a87467
"""

from __future__ import annotations

from newsclean.sites import Site, has_class

SITE = Site(
    name="themoscowtimes",
    domains=("themoscowtimes.com",),
    feeds=("https://www.themoscowtimes.com/rss/news", "https://www.themoscowtimes.com/rss/opinion"),
    # The sitemap index lives on another host than the site (robots.txt names it).
    sitemaps=("https://static.themoscowtimes.com/sitemap/sitemap.xml",),
    article_url=r"^https?://www\.themoscowtimes\.com/\d{4}/\d{2}/\d{2}/[\w-]+-a\d+/?$",
    body=(
        f"//article//div[{has_class('article__intro')}]",
        f"//article//div[{has_class('article__content')}]",
    ),
    prune=(
        f"//*[{has_class('article__block--image')}]",
        f"//figure[{has_class('article__image')}]",
        f"//aside[{has_class('article__related-article')}]",
        f"//div[{has_class('article__disclaimer')}]",
        f"//div[{has_class('article__tags')}]",
    ),
    fields={
        "title": f"//header[{has_class('article__header')}]/h1",
        "subtitle": f"//header[{has_class('article__header')}]/h2",
        "authors": f"//div[{has_class('article__byline')}]//a[{has_class('byline__author__name')}]",
    },
)
