"""Soak News (soak.example): the loopback site of tests/test_soak.py, served by tests/soaksite.py.

Not a site of the project: this folder is put on ``PYTHONPATH`` by the soak test only, and the
``spiders`` package takes its modules in (``pkgutil.extend_path``). An Atom feed; the article body is
``div.story-body``, related links in an ``aside``.
"""

from __future__ import annotations

from newsclean.sites import Site

SITE = Site(
    name="soaknews",
    domains=("soak.example",),
    feeds=("https://soak.example/feed.atom",),
    article_url=r"^https://soak\.example/news/\d+/[a-z0-9-]+$",
    body=("//div[@class='story-body']",),
    prune=("//aside",),
    fields={"title": "//h1"},
)
