"""The known sites: the ``SITE`` declared by each module of the ``spiders`` package.

Reading them imports those modules, which hold data only: no Scrapy. Extraction looks a page's site
up here by its URL (:func:`site_for_url`), in the crawl process, in a worker, or in ``newsclean extract``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from newsclean.sites import GENERIC, Site

SPIDER_PACKAGE = "spiders"


class RegistryError(ValueError):
    """Two sites with one name, two sites claiming one domain, or a ``SITE`` that is not a :class:`Site`."""


@lru_cache(maxsize=1)
def known_sites() -> dict[str, Site]:
    """Site name -> declaration, for every module of the ``spiders`` package that declares ``SITE``.

    Two sites with one name, or two sites claiming one domain, are refused (:class:`RegistryError`).
    """
    package = importlib.import_module(SPIDER_PACKAGE)
    found: dict[str, Site] = {}
    domains: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{SPIDER_PACKAGE}.{info.name}")
        site = getattr(module, "SITE", None)
        if site is None:
            continue
        if not isinstance(site, Site):
            raise RegistryError(f"{module.__name__}.SITE is not a newsclean.sites.Site")
        if site.name in found:
            raise RegistryError(f"two sites are named {site.name!r}: in {found[site.name]} and {module.__name__}")
        for domain in site.domains:
            if domain in domains:
                raise RegistryError(f"domain {domain!r} is claimed by {domains[domain]!r} and {site.name!r}")
            domains[domain] = site.name
        found[site.name] = site
    return found


def site_named(name: str) -> Site | None:
    """The site called ``name``, or None."""
    return known_sites().get(name)


def site_for_url(url: str | None) -> Site:
    """The site ``url`` belongs to; :data:`~newsclean.sites.GENERIC` for an unknown site."""
    for site in known_sites().values():
        if site.matches(url):
            return site
    return GENERIC
