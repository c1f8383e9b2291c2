"""Every XPath the generic extraction uses, named."""

from __future__ import annotations

# Elements no reader sees. Removed before extraction on every page.
# (One scan of the tree: the attribute tests are one predicate, not a union of four scans.)
INVISIBLE = (
    "//*[@hidden or @aria-hidden='true'"
    " or contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')"
    " or self::noscript or self::template or self::dialog]"
)
# The same elements and those with any style attribute, whose style core._invisible then reads:
# the XPath's translate() of every element's style took as long as the scan itself.
MAYBE_INVISIBLE = "//*[@hidden or @aria-hidden='true' or @style or self::noscript or self::template or self::dialog]"
# Machine-readable metadata.
JSON_LD = "//script[@type='application/ld+json']/text()"
META = "//meta[@content]"
CANONICAL = "//link[@rel='canonical']/@href"
HTML_LANG = "/html/@lang"
TITLE = "//title/text()"
# The headline the page gives for sharing (often the one its <title> and h1 do not print).
SHARE_TITLES = (
    "//meta[@property='og:title' or @name='og:title' or @name='twitter:title' or @property='twitter:title']/@content"
)
H1 = "//h1"
HEAD = "//head"
# What the site calls itself (Open Graph site name, web-app name).
SITE_NAME = (
    "//meta[@property='og:site_name']/@content"
    " | //meta[@name='application-name']/@content"
    " | //meta[@name='apple-mobile-web-app-title']/@content"
)
# Paragraphs, for a cheap estimate of how much running text a page holds.
PARAGRAPHS = "//p"
# Posts quoted in an article (embedded tweets): part of the story, but marked up as social widgets.
EMBEDDED_POSTS = "//blockquote[contains(@class, 'twitter-tweet')]"
# Block-level descendants: an element without any holds running text only.
_BLOCK_TAGS = ("p", "div", "ul", "ol", "table", "blockquote", "figure", "section", "article", "aside", "pre")
BLOCKS = " | ".join(f".//{tag}" for tag in (*_BLOCK_TAGS, "h1", "h2", "h3", "h4", "h5", "h6"))
