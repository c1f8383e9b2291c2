"""The stop words of trafilatura's jusText fallback, held compactly and looked up in O(log n).

When trafilatura falls back to jusText on a page of unknown language (newsclean never names one),
it looks each word up in the union of jusText's 100 stop lists, which it builds once as a tuple of
154,484 strings that jusText then copies into a frozenset: 33 MB in every worker, and the whole
tuple hashed again on every call (jusText caches the frozenset by it). :class:`StopWords` holds
the same union as a sorted array of the words' hashes (1.2 MB) and answers by binary search. Two
distinct words share a 64-bit hash with a chance of about one in 10^14 per lookup, the only way an
answer could differ.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from justext.utils import get_stoplist, get_stoplists


class StopWords:
    """``word in StopWords()``: is ``word`` in any of jusText's stop lists (loaded on first use)."""

    def __init__(self) -> None:
        self._hashes: array[int] | None = None

    def _load(self) -> array[int]:
        hashes: array[int] = array("q")
        for language in sorted(get_stoplists()):
            hashes.extend(hash(word) for word in get_stoplist(language))
        self._hashes = array("q", sorted(set(hashes)))
        return self._hashes

    def __contains__(self, word: object) -> bool:
        hashes = self._hashes if self._hashes is not None else self._load()
        key = hash(word)
        i = bisect_left(hashes, key)
        return i < len(hashes) and hashes[i] == key

    def __bool__(self) -> bool:  # trafilatura tests the list with `or` before building its own
        return True

    def __len__(self) -> int:
        return len(self._hashes if self._hashes is not None else self._load())


def _define_stoplist(original: Callable[[Any], frozenset[str]]) -> Callable[[Any], Any]:
    """jusText's ``define_stoplist``, which turns any stop list into a frozenset (copying the union's
    154,484 words once more, 20 MB), letting a :class:`StopWords` through as it is."""

    def define_stoplist(stoplist: Any) -> Any:
        return stoplist if isinstance(stoplist, StopWords) else original(stoplist)

    define_stoplist.newsclean_original = original  # type: ignore[attr-defined]
    return define_stoplist


def install() -> None:
    """Make trafilatura's jusText fallback use :class:`StopWords` (once per process)."""
    from justext import core
    from trafilatura import external

    if not isinstance(external.JT_STOPLIST, StopWords):
        external.JT_STOPLIST = StopWords()
    if not hasattr(core.define_stoplist, "newsclean_original"):
        core.define_stoplist = _define_stoplist(core.define_stoplist)
