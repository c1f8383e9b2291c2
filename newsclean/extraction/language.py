"""Language identification: langdetect, deterministic, on a bounded prefix of the text.

langdetect's own factory holds its 55 language profiles as one list of 55 floats per n-gram
(87,598 lists, 58 MB in every process that detects a language), although an n-gram occurs in 2.1
languages on average. :class:`CompactFactory` loads the same profiles, in the same order, and keeps
an n-gram's row as packed (language index, probability) pairs, or whole (a tuple) for the few
n-grams of many languages: 18 MB, loaded in half the time. :class:`CompactDetector` multiplies the
probabilities by the factors langdetect does (``weight + p``, and ``weight + 0.0 == weight`` where
the n-gram is absent), so the answers are langdetect's bit for bit (``tests/test_language.py``).
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException

# The first 1,000 characters gave the same answer as the whole text on 181 real pages, 2.5x faster.
PREFIX_CHARS = 1000
# Below this many characters the detector guesses; the page's own <html lang> is trusted instead.
MIN_CHARS = 80
# langdetect samples at random: a fixed seed makes the same text give the same answer every run.
SEED = 0

_PAIR = struct.Struct("<Bd")  # language index, probability of the n-gram in that language
# From this many languages on, a row is kept whole (a tuple of floats, as langdetect keeps it): the
# n-grams met most often are in most languages, and a whole row is the faster to apply (1.6 MB more).
DENSE_FROM = 8


class CompactDetector(Detector):  # type: ignore[misc]
    """langdetect's ``Detector`` reading the rows of :class:`CompactFactory`."""

    def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
        row = self.word_lang_prob_map.get(word) if word is not None else None
        if row is None:
            return False
        weight = alpha / self.BASE_FREQ
        if isinstance(row, bytes):
            factors = [weight] * len(prob)
            for index, p in _PAIR.iter_unpack(row):
                factors[index] = weight + p
            prob[:] = [q * f for q, f in zip(prob, factors, strict=True)]
        else:
            prob[:] = [q * (weight + p) for q, p in zip(prob, row, strict=True)]
        return True


class CompactFactory(DetectorFactory):  # type: ignore[misc]
    """langdetect's ``DetectorFactory`` with each n-gram's probabilities packed (see the module doc)."""

    def load_profile(self, profile_directory: str) -> None:
        """Load every profile of ``profile_directory``, as langdetect does, into packed rows."""
        names = os.listdir(profile_directory)  # langdetect's order, so that sums add up alike
        rows: dict[str, bytes] = {}
        for name in names:
            path = os.path.join(profile_directory, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as f:
                profile: dict[str, Any] = json.load(f)
            lang = profile["name"]
            if lang in self.langlist:
                raise LangDetectException(ErrorCode.DuplicateLangError, f"duplicate language profile {lang!r}")
            index = len(self.langlist)
            self.langlist.append(lang)
            n_words = profile["n_words"]
            for word, count in profile["freq"].items():
                pair = _PAIR.pack(index, 1.0 * count / n_words[len(word) - 1]) if 1 <= len(word) <= 3 else b""
                rows[word] = rows.get(word, b"") + pair
        size = len(self.langlist)
        if size != len(names):
            raise LangDetectException(ErrorCode.FormatError, f"{len(names)} files, {size} profiles")
        whole: dict[str, tuple[float, ...]] = {}
        for word, packed in rows.items():
            if len(packed) >= DENSE_FROM * _PAIR.size:
                dense = [0.0] * size
                for index, p in _PAIR.iter_unpack(packed):
                    dense[index] = p
                whole[word] = tuple(dense)
        rows.update(whole)  # replaces values only: the table keeps its size
        self.word_lang_prob_map = rows

    def _create_detector(self) -> CompactDetector:
        if not self.langlist:
            raise LangDetectException(ErrorCode.NeedLoadProfileError, "no language profiles loaded")
        return CompactDetector(self)


_factory: CompactFactory | None = None


def factory() -> CompactFactory:
    """The process's detector factory, its profiles loaded on first use."""
    global _factory
    if _factory is None:
        loaded = CompactFactory()
        loaded.load_profile(PROFILES_DIRECTORY)
        loaded.set_seed(SEED)
        _factory = loaded
    return _factory


def _iso639_1(code: str) -> str:
    return code.strip().replace("_", "-").split("-")[0].lower()


def detect_language(text: str, html_lang: str = "") -> tuple[str, float]:
    """(ISO 639-1 code, probability) of ``text``; ``html_lang`` with probability 1.0 for short texts.

    Returns ``("", 0.0)`` when neither gives an answer.
    """
    fallback = (_iso639_1(html_lang), 1.0) if html_lang.strip() else ("", 0.0)
    if len(text.strip()) < MIN_CHARS:
        return fallback
    detector = factory().create()
    try:
        detector.append(text[:PREFIX_CHARS])
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return fallback
    return _iso639_1(best.lang), round(best.prob, 4)
