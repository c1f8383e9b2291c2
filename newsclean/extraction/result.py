"""What one extraction gives. Kept apart from the extraction code, which it does not import, so that
the crawl process reads the results of its workers without loading trafilatura and the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsclean.article import Article

# A removed block: (the rule that removed it, its text).
Removal = tuple[str, str]


@dataclass
class Extraction:
    """What :func:`~newsclean.extraction.extract` found: the article, or the reason there is none,
    and what was removed."""

    article: Article | None
    reason: str = ""
    removed: list[Removal] = field(default_factory=list)
