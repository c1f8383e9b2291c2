"""Language identification: langdetect, deterministic, on a bounded prefix of the text.

langdetect's own factory holds its 55 language profiles as one list of 55 floats per n-gram
(87,598 lists, 58 MB in every process that detects a language), although an n-gram occurs in 2.1
languages on average. :class:`CompactFactory` loads the same profiles, in the same order, and keeps
an n-gram's row as packed (language index, probability) pairs, or whole (a tuple) for the few
n-grams of many languages: 18 MB, loaded in half the time. :class:`CompactDetector` multiplies the
probabilities by the factors langdetect does (``weight + p``, and ``weight + 0.0 == weight`` where
the n-gram is absent), so the answers are langdetect's bit for bit (``tests/test_language.py``).

It also does langdetect's work in half its time (``benchmarks/language.py``), by the same floating
point operations in the same order on the same random draws: the n-grams are cut from the whole
normalised text by C-level maps instead of a method call per char, and the trials multiply by the
five rows drawn between two normalisations in one list comprehension.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterable
from itertools import chain, compress
from operator import add
from random import Random
from typing import Any

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

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
# At most this many chars' normalised form and case are remembered across texts.
MAX_CACHED = 10_000


Row = bytes | tuple[float, ...]  # a row of CompactFactory's table


class _Normalized(dict[int, str]):
    """``str.translate`` table: a code point to langdetect's ``NGram.normalize`` of it, computed once."""

    def __missing__(self, code: int) -> str:
        normalized: str = NGram.normalize(chr(code))
        if len(self) < MAX_CACHED:
            self[code] = normalized
        return normalized


class _Case(dict[int, str]):
    """``str.translate`` table: a code point to ``U`` for an upper-case char, to ``.`` for any other."""

    def __missing__(self, code: int) -> str:
        mark = "U" if chr(code).isupper() else "."
        if len(self) < MAX_CACHED:
            self[code] = mark
        return mark


_NORMALIZED = _Normalized()
_CASE = _Case()
_CAPITALS = re.compile("(?<=U)U")  # an upper-case char after another
_SKIP = bytes.maketrans(b"S", b"\0")  # a position marked S: false, any other: true
_SPACE_RUN = re.compile(" {2,}")
_WORD = re.compile("[^ ]+ ?")  # a word of the normalised text and the space after it, if any
_LATIN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z': brackets, caret, underscore, backtick too
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")


class CompactDetector(Detector):  # type: ignore[misc]
    """langdetect's ``Detector`` reading the rows of :class:`CompactFactory`, its inner loops made fast.

    Each method replaced here computes what langdetect's does, on the same floats in the same order,
    drawing the same random numbers: the answers are langdetect's bit for bit.
    """

    def __init__(self, factory: DetectorFactory) -> None:
        super().__init__(factory)
        checked = getattr(factory, "_whole_text", None)
        if checked is None or checked[0] is not self.word_lang_prob_map:
            checked = factory._whole_text = (self.word_lang_prob_map, _whole_text_fits(self.word_lang_prob_map))
        self._whole_text: bool = checked[1]

    def append(self, text: str) -> None:
        """langdetect's ``append``: URLs and e-mail addresses blanked, Vietnamese normalised, the text
        cut to ``max_text_length`` and each run of spaces made one (its per-char loop, as a regex)."""
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUN.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        """langdetect's ``cleaning_text``: Latin letters dropped from a text mostly in other scripts.

        langdetect counts as non-Latin each char from U+0300 on whose block is not
        ``'Latin Extended Additional'``; its ``unicode_block`` names blocks by number, so that holds
        for every such char (``tests/test_language.py`` has a Vietnamese text, in that block).
        """
        text = self.text
        if not text.isascii() and len(_LATIN.findall(text)) * 2 < len(_NON_LATIN.findall(text)):
            self.text = _LATIN.sub("", text)

    def _candidates(self) -> Iterable[str]:
        """Every string langdetect's ``_extract_ngrams`` looks up in its table, but for spaces alone,
        in its order: at each char of the normalised text, the char, the two and the three chars up
        to it (a space before the text), but where it and the char before are both upper case.

        langdetect's ``NGram`` starts afresh after a space, so it never looks up a string with two
        spaces or a space amid three chars, which this does: :func:`_whole_text_fits` checks that the
        table has none, else the text goes word by word through langdetect's logic.
        """
        normalized = self.text.translate(_NORMALIZED)
        if not self._whole_text:
            return (gram for word in _WORD.findall(normalized) for gram in _word_ngrams(word, self.word_lang_prob_map))
        padded = "  " + normalized
        chars = padded[2:]
        grams: Iterable[tuple[str, str, str]] = zip(
            chars, map(add, padded[1:], chars), map(add, map(add, padded, padded[1:]), chars), strict=False
        )
        case = padded.translate(_CASE)
        if "UU" in case:
            grams = compress(grams, _CAPITALS.sub("S", case)[2:].encode("ascii").translate(_SKIP))
        return chain.from_iterable(grams)

    def _extract_ngrams(self) -> list[str]:
        """langdetect's n-grams of the text, in its order."""
        known = self.word_lang_prob_map
        return [gram for gram in self._candidates() if gram in known]

    def _ngram_rows(self) -> list[Row]:
        """The table's row of each of ``_extract_ngrams()`` (rows are never empty)."""
        return list(filter(None, map(self.word_lang_prob_map.get, self._candidates())))

    def _detect_block(self) -> None:
        """langdetect's ``_detect_block``: the same trials, on the same random draws and floats."""
        if self.verbose or type(self.random)._randbelow is not Random._randbelow_with_getrandbits:
            super()._detect_block()
            return
        self.cleaning_text()
        ngrams = self._ngram_rows()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        size = len(self.langlist)
        n_trial = self.n_trial
        limit = self.ITERATION_LIMIT
        threshold = self.CONV_THRESHOLD
        langprob = [0.0] * size
        random = self.random
        random.seed(self.seed)
        getrandbits = random.getrandbits
        count = len(ngrams)
        bits = count.bit_length()
        spread: dict[bytes, tuple[float, ...]] = {}

        def draw() -> tuple[float, ...]:
            """random.choice(ngrams), drawn as Random._randbelow_with_getrandbits does, as a whole row."""
            r = getrandbits(bits)
            while r >= count:
                r = getrandbits(bits)
            row = ngrams[r]
            if type(row) is tuple:
                return row
            whole = spread.get(row)
            if whole is None:
                whole = spread[row] = _whole(row, size)
            return whole

        for _ in range(n_trial):
            prob = self._init_probability()
            alpha = self.alpha + random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            # langdetect's loop: update i (prob[j] *= weight + p, p = 0.0 where the n-gram is not in a
            # language), then at every fifth i normalise, stopping when a language passes threshold or
            # at the limit. Unrolled: prob holds the values before their division by total; the
            # division happens where the next update needs it, in the same expression, and the five
            # updates between two divisions multiply each language's value in langdetect's order.
            row = draw()
            prob = [q * (weight + p) for q, p in zip(prob, row, strict=True)]
            total = sum(prob)
            i = 0
            # max(q) / total is the largest q / total: a division by the same positive number keeps order
            while not (max(prob) / total > threshold or i >= limit):
                a, b, c, d, e = draw(), draw(), draw(), draw(), draw()
                prob = [
                    q / total * (weight + pa) * (weight + pb) * (weight + pc) * (weight + pd) * (weight + pe)
                    for q, pa, pb, pc, pd, pe in zip(prob, a, b, c, d, e, strict=True)
                ]
                total = sum(prob)
                i += 5
            prob = [q / total for q in prob]
            for j in range(size):
                langprob[j] += prob[j] / n_trial
        self.langprob = langprob

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


def _whole(row: bytes, size: int) -> tuple[float, ...]:
    """A packed row as langdetect holds it: each language's probability, 0.0 where it has none."""
    whole = [0.0] * size
    for index, p in _PAIR.iter_unpack(row):
        whole[index] = p
    return tuple(whole)


def _whole_text_fits(known: dict[str, Row]) -> bool:
    """Whether ``known`` has no n-gram that is a space, holds two spaces or a space amid three chars."""
    return " " not in known and not any("  " in gram or gram[1:-1] == " " for gram in known)


def _word_ngrams(word: str, known: dict[str, Row]) -> list[str]:
    """The n-grams of ``known`` langdetect's ``_extract_ngrams`` takes from ``word`` (normalised, no
    space but maybe a last one) after a space: ``NGram.add_char`` and its capital-word rule, unrolled.
    (langdetect's ``NGram`` starts afresh after a space, so the n-grams of a word depend on it alone.)"""
    found: list[str] = []
    grams = " "
    capital = False
    previous_upper = False  # " ".isupper()
    for ch in word:
        if len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += ch
        upper = ch.isupper()
        if upper:
            if previous_upper:
                capital = True
        else:
            capital = False
        previous_upper = upper
        if capital:
            continue
        if ch != " " and ch in known:
            found.append(ch)
        if len(grams) >= 2:
            if grams[-2:] in known:
                found.append(grams[-2:])
            if len(grams) >= 3 and grams in known:
                found.append(grams)
    return found


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
                whole[word] = _whole(packed, size)
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
