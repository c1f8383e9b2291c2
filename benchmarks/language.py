"""Time newsclean's language detection against langdetect's own on the texts of real pages.

    python benchmarks/language.py DATA_DIR [DATA_DIR ...] [--passes N]

Each DATA_DIR holds ``html/<id>.html.gz`` and ``ground-truth.json`` (id -> {"url", ...}, as for
``benchmarks/extraction.py``) or ``cases.json`` ({"cases": {id: {"url", ...}}}, as for
``benchmarks/metadata.py``). Every page's text is extracted once with ``newsclean.extraction.extract``;
then, page by page in turn, in the same process, three detectors answer for its first
``PREFIX_CHARS`` characters: langdetect's ``DetectorFactory``, the compact detector before its
inner loops were unrolled (kept below as :class:`PreviousDetector`) and ``detect_language``.
Prints the median over the passes of each one's milliseconds a page, the time ratios, and the
number of texts whose answers (each language's probability, the list langdetect reports, and
``detect_language``'s pair) differ from langdetect's: exits 1 unless that is 0.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from newsclean.extraction import extract
from newsclean.extraction.language import (
    MIN_CHARS,
    PREFIX_CHARS,
    SEED,
    CompactDetector,
    CompactFactory,
    _iso639_1,
    detect_language,
    factory,
)


class PreviousDetector(Detector):  # type: ignore[misc]
    """The compact detector as it was: langdetect's ``Detector`` but for ``_update_lang_prob`` (which
    the compact detector keeps, for langdetect's own loop)."""

    _update_lang_prob = CompactDetector._update_lang_prob


class PreviousFactory(CompactFactory):
    def _create_detector(self) -> PreviousDetector:
        return PreviousDetector(self)


def _pages(data_dir: Path) -> dict[str, tuple[str, bytes]]:
    """id -> (url, html) of a benchmark folder in either layout."""
    truth = data_dir / "ground-truth.json"
    if truth.is_file():
        entries: dict[str, dict[str, Any]] = json.loads(truth.read_text(encoding="utf-8"))
    else:
        entries = json.loads((data_dir / "cases.json").read_text(encoding="utf-8"))["cases"]
    return {
        f"{data_dir.name}/{key}": (
            entry.get("url") or "",
            gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes()),
        )
        for key, entry in sorted(entries.items())
    }


def text_windows(text: str) -> list[str]:
    """The first three runs of ``PREFIX_CHARS`` characters of ``text`` (fewer for a shorter text)."""
    return [text[i : i + PREFIX_CHARS] for i in range(0, min(len(text), 3 * PREFIX_CHARS), PREFIX_CHARS)]


def _loaded(factory: DetectorFactory) -> DetectorFactory:
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(SEED)
    return factory


def _answers(factory: DetectorFactory, prefix: str) -> tuple[list[float], list[tuple[str, float]]] | str:
    """Each language's probability for ``prefix`` and the languages reported (or the error)."""
    detector = factory.create()
    try:
        detector.append(prefix)
        reported = [(language.lang, language.prob) for language in detector.get_probabilities()]
    except LangDetectException as exc:
        return repr(exc)
    return list(detector.langprob), reported


def _detect(factory: DetectorFactory) -> Callable[[str], tuple[str, float]]:
    """``detect_language`` (without ``<html lang>``) on ``factory``'s detectors."""

    def detect(text: str) -> tuple[str, float]:
        detector = factory.create()
        try:
            detector.append(text[:PREFIX_CHARS])
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return "", 0.0
        return _iso639_1(best.lang), round(best.prob, 4)

    return detect


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dirs", type=Path, nargs="+", metavar="DATA_DIR")
    ap.add_argument("--passes", type=int, default=5, help="times over every page (default 5)")
    ap.add_argument(
        "--save-texts",
        type=Path,
        metavar="PATH",
        help="also write the texts' first 3,000 characters, in runs of 1,000, to PATH (gzipped JSON list)",
    )
    args = ap.parse_args(argv)

    texts: list[str] = []
    for data_dir in args.data_dirs:
        for url, html in _pages(data_dir).values():
            article = extract(html, url).article
            if article is not None and len(article.text.strip()) >= MIN_CHARS:
                texts.append(article.text)
    if not texts:
        print("no page gave a text to detect", file=sys.stderr)
        return 1
    if args.save_texts:
        windows = [w for t in texts for w in text_windows(t)]
        args.save_texts.write_bytes(gzip.compress(json.dumps(windows, ensure_ascii=False).encode(), mtime=0))
        print(f"{len(windows)} windows of {len(texts)} texts written to {args.save_texts}")
    stock, previous = _loaded(DetectorFactory()), _loaded(PreviousFactory())
    factory()
    gc.collect()
    gc.freeze()  # the profiles and pages, loaded for good: no collection need walk them again
    detectors: dict[str, Callable[[str], tuple[str, float]]] = {
        "langdetect": _detect(stock),
        "previous": _detect(previous),
        "newsclean": detect_language,
    }
    seconds: dict[str, list[float]] = {name: [] for name in detectors}
    for _ in range(args.passes):
        spent = dict.fromkeys(detectors, 0.0)
        for text in texts:
            for name, detect in detectors.items():
                start = time.perf_counter()
                detect(text)
                spent[name] += time.perf_counter() - start
        for name, value in spent.items():
            seconds[name].append(value)

    # The timed prefixes, and the texts' next runs of PREFIX_CHARS characters too, for more evidence.
    differ = checked = 0
    for text in texts:
        differ += detect_language(text) != detectors["langdetect"](text)
        for window in text_windows(text):
            expected = _answers(stock, window)
            differ += not (_answers(factory(), window) == expected == _answers(previous, window))
            checked += 1

    def ms(name: str) -> float:
        return statistics.median(seconds[name]) / len(texts) * 1000

    print(f"{len(texts)} texts, first {PREFIX_CHARS} characters of each, {args.passes} passes, median ms/page:")
    for name in detectors:
        print(f"  {name:<11} {ms(name):7.3f} ms/page")
    stock_ratio, previous_ratio = ms("langdetect") / ms("newsclean"), ms("previous") / ms("newsclean")
    print(f"time ratio langdetect/newsclean {stock_ratio:.2f}x, previous/newsclean {previous_ratio:.2f}x")
    print(f"answers differing from langdetect's: {differ} ({len(texts)} pairs, {checked} windows' probabilities)")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
