"""trafilatura's own metadata heuristics, for the fields a page's JSON-LD and ``<meta>`` tags lack.

newsclean reads a page's JSON-LD and ``<meta>`` tags itself; trafilatura's heuristics (its title and
byline rules, htmldate for the date, category and tag links) are the fallback when those lack a
title, a date or a byline. ``trafilatura.metadata.extract_metadata`` runs every step; :func:`read`
runs the same steps, in the same order, on the same tree, but leaves out those whose result
newsclean would not use: the date (htmldate) when the page declares one, categories and tags when it
declares them, and the site name and licence, which newsclean never reads. Every field it returns
holds ``extract_metadata``'s value (``tests/test_fallback_metadata.py`` compares them on every
fixture page), in about 60% of its time.
"""

from __future__ import annotations

import logging

from lxml.html import HtmlElement
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_catstags,
    extract_meta_json,
    extract_title,
    extract_url,
    find_date,
)
from trafilatura.settings import Document, set_date_params

logger = logging.getLogger(__name__)


def read(
    tree: HtmlElement, url: str | None, *, date: bool = True, categories: bool = True, tags: bool = True
) -> Document:
    """trafilatura's metadata of ``tree`` (title, author, url, date, description, image, categories,
    tags), as ``extract_metadata(tree, url, None, False)`` gives them; ``date``, ``categories``,
    ``tags``: whether to look for these (left None when not)."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:  # as trafilatura: a single word is no byline
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as exc:  # trafilatura's own guard around its JSON-LD reader
        logger.debug("trafilatura's JSON-LD metadata failed: %s", exc)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if date:
        config = set_date_params(False)
        config["url"] = metadata.url
        metadata.date = find_date(tree, **config)
    if categories and not metadata.categories:
        metadata.categories = extract_catstags("category", tree)
    if tags and not metadata.tags:
        metadata.tags = extract_catstags("tag", tree)
    metadata.clean_and_trim()
    return metadata
