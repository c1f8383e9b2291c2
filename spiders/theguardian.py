"""The Guardian (www.theguardian.com): section RSS feeds and the Google News sitemap.

Page structure from the site's open-source front end (guardian/dotcom-rendering): the body is
``div.article-body-commercial-selector`` inside ``[data-gu-name="body"]``, which also holds the
"Explore more on these topics" and "Reuse this content" sub-meta (outside the selector). In the body,
rich links ("Related" cards) and newsletter sign-ups ("skip past newsletter promotion" ... "after
newsletter promotion") are figures named by ``data-spacefinder-type``. Live blogs, galleries, videos
and audio put a segment between section and date (/world/live/2024/dec/28/...), so ``article_url``
turns them away. Example: /world/2024/dec/27/japan-snowstorm-strands-travellers-hokkaido-new-chitose-airport
"""

from __future__ import annotations

from newsclean.sites import Site, has_class

BYLINE = "//*[@data-gu-name='meta']//address[@data-component='meta-byline']"

SITE = Site(
    name="theguardian",
    domains=("theguardian.com",),
    feeds=("https://www.theguardian.com/world/rss",),
    # robots.txt also names /sitemaps/video.xml, which lists video pages only.
    sitemaps=("https://www.theguardian.com/sitemaps/news.xml",),
    article_url=r"^https?://www\.theguardian\.com/[a-z0-9-]+/\d{4}/[a-z]{3}/\d{2}/[a-z0-9-]+/?$",
    body=(f"//*[@data-gu-name='body']//div[{has_class('article-body-commercial-selector')}]",),
    # In-body elements come wrapped in a figure named by their type (rich links, newsletter sign-ups,
    # images); the figure's caption and credit are not article text.
    prune=(
        "//figure[contains(@data-spacefinder-type, '.RichLinkBlockElement')]",
        "//figure[contains(@data-spacefinder-type, '.NewsletterSignupBlockElement')]",
        "//figcaption",
    ),
    fields={
        "title": "//*[@data-gu-name='headline']//h1",
        "subtitle": "//*[@data-gu-name='standfirst']",
        # Linked contributors; a byline with none ("Reuters", "Staff and agencies") is taken whole and
        # goes to source.
        "authors": f"{BYLINE}//a[@rel='author'] | {BYLINE}[not(.//a[@rel='author'])]",
    },
)
