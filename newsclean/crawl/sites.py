"""One spider per known site, made from its declaration: what ``scrapy list`` shows and
``scrapy crawl <site>`` runs (a module of ``SPIDER_MODULES``).

A site's spider takes ``name``, ``allowed_domains``, ``feeds``, ``sitemaps``, ``listings`` and
``article_url`` from its :class:`~newsclean.sites.Site`; the methods of ``Site.spider``, a plain class
in the site's module, come before :class:`~newsclean.crawl.spider.NewsSpider`'s.
"""

from __future__ import annotations

from newsclean.crawl.spider import NewsSpider
from newsclean.registry import known_sites
from newsclean.sites import Site


def class_name(site: Site) -> str:
    """``themoscowtimes`` -> ``ThemoscowtimesSpider``; ``bbc_news`` -> ``BbcNewsSpider``."""
    return "".join(part.capitalize() for part in site.name.split("_")) + "Spider"


def spider_class(site: Site) -> type[NewsSpider]:
    """The spider of ``site``."""
    bases: tuple[type, ...] = (site.spider, NewsSpider) if site.spider is not None else (NewsSpider,)
    attributes = {
        "__module__": __name__,
        "__doc__": f"Crawls {site.name}: its feeds, sitemaps and listing pages (see spiders/{site.name}.py).",
        "name": site.name,
        "site": site,
        "allowed_domains": list(site.domains),
        "feeds": site.feeds,
        "sitemaps": site.sitemaps,
        "listings": site.listings,
        "article_url": site.article_url,
    }
    return type(class_name(site), bases, attributes)


SITE_SPIDERS: dict[str, type[NewsSpider]] = {name: spider_class(site) for name, site in known_sites().items()}
globals().update({cls.__name__: cls for cls in SITE_SPIDERS.values()})  # where Scrapy's spider loader looks
