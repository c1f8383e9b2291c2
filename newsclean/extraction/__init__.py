"""Article extraction: plain functions on HTML. Nothing here imports Scrapy."""

from __future__ import annotations

from newsclean.extraction.core import Extraction, extract, extract_article
from newsclean.extraction.language import detect_language
from newsclean.extraction.rules import GENERIC, SiteRules, has_class, pick_rules

__all__ = [
    "GENERIC",
    "Extraction",
    "SiteRules",
    "detect_language",
    "extract",
    "extract_article",
    "has_class",
    "pick_rules",
]
