"""The known sites: every site spider in the ``spiders`` package and its extraction rules."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from newsclean.extraction.rules import SiteRules, pick_rules

SPIDER_PACKAGE = "spiders"


def spider_classes() -> list[type]:
    """Every spider class defined in a module of the ``spiders`` package, site and generic alike."""
    import scrapy

    package = importlib.import_module(SPIDER_PACKAGE)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{SPIDER_PACKAGE}.{info.name}")
        for obj in vars(module).values():
            defined_here = isinstance(obj, type) and obj.__module__ == module.__name__
            if defined_here and issubclass(obj, scrapy.Spider) and getattr(obj, "name", None):
                found.append(obj)
    return found


@lru_cache(maxsize=1)
def site_spiders() -> dict[str, type]:
    """Spider name -> class, for every spider in the ``spiders`` package that declares rules.

    Two spiders with one name, or two rules claiming one domain, are refused.
    """
    found: dict[str, type] = {}
    domains: dict[str, str] = {}
    for obj in spider_classes():
        if getattr(obj, "rules", None) is None:
            continue
        if obj.name in found:
            raise ValueError(f"two spiders are named {obj.name!r}: {found[obj.name]} and {obj}")
        for domain in obj.rules.domains:
            if domain in domains:
                raise ValueError(f"domain {domain!r} is claimed by {domains[domain]!r} and {obj.name!r}")
            domains[domain] = obj.name
        found[obj.name] = obj
    return found


def all_rules() -> tuple[SiteRules, ...]:
    """The rules of every known site."""
    return tuple(cls.rules for cls in site_spiders().values())  # type: ignore[attr-defined]


def rules_for_url(url: str | None) -> SiteRules:
    """The rules of the site ``url`` belongs to; generic rules for an unknown site."""
    return pick_rules(url, all_rules())
