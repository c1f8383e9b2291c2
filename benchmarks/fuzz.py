"""Fuzz ``extract`` for longer than CI does, and report what was tried and how long pages took.

    python benchmarks/fuzz.py [--examples 1000] [--bound 10] [--seed N] [--seeds DIR] [--save DIR]

Feeds ``extract`` the hostile pages of ``tests/fuzzing.py`` (the fixture pages mutated: byte flips,
truncation, tag deletion, deep nesting, huge attributes, mixed encodings, control characters,
random bytes, backtracking bait, repeated chunks; with odd URLs and HTTP charsets), at random.
``--seeds DIR`` adds every ``*.html`` / ``*.html.gz`` page under DIR (say a benchmark's pages) to
the seeds. Prints the inputs tried by mutation, the failures (an exception reaching extraction's
catch-all, or a page over ``--bound`` seconds), the five slowest pages (``--save DIR`` writes them
and the failing ones there), and the maximum, median and 95th percentile time a page took, beside
the same figures for the unmutated seeds in the same run. Then (unless ``--no-scaling``) the time
of one paragraph of 0.25 to 2 MB, plain and full of inline markup, and of 5,000 and 20,000 nested
divs. Exits 1 when anything failed."""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests import fuzzing


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _figures(times: list[float]) -> str:
    if not times:
        return "none"
    return (
        f"max {max(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {_percentile(times, 0.95) * 1000:.0f} ms"
    )


_SENTENCE = "The mayor said on Monday that the bridge, closed since May, would reopen in June. "


def _long_page(size: int, inline: bool) -> str:
    if inline:
        body = "".join(f"word <b>bold{i}</b> and <a href='/x{i}'>link</a>, " for i in range(size // 40))
    else:
        body = _SENTENCE * (size // len(_SENTENCE))
    return f"<html><head><title>Bridge to reopen</title></head><body><article><p>{body}</p></article></body></html>"


def scaling(bound: float) -> None:
    """Time for one paragraph of 0.25 to 2 MB (plain, and with inline markup every few words), and
    for 5,000 and 20,000 nested divs: each doubling of size should about double the time."""
    for inline in (False, True):
        previous = 0.0
        for size in (250_000, 500_000, 1_000_000, 2_000_000):
            elapsed, problem = fuzzing.run_one(_long_page(size, inline), fuzzing.URLS[0], None, bound * 6)
            ratio = f", x{elapsed / previous:.2f} the half size" if previous else ""
            kind = "inline markup" if inline else "plain text"
            print(f"  one paragraph, {kind}, {size / 1e6:.2f} MB: {elapsed:.2f} s{ratio} {problem}")
            previous = elapsed
    for depth in (5_000, 20_000):
        page = "<html><body>" + "<div>" * depth + f"<p>{_SENTENCE}</p>" * 5 + "</div>" * depth + "</body></html>"
        elapsed, problem = fuzzing.run_one(page, fuzzing.URLS[0], None, bound)
        print(f"  {depth} nested divs ({len(page) / 1e3:.0f} kB): {elapsed:.2f} s {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--bound", type=float, default=10.0, help="seconds a page may take")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    parser.add_argument("--seeds", type=Path, default=None, help="folder of extra seed pages")
    parser.add_argument("--save", type=Path, default=None, help="folder to write the failing and slowest pages to")
    parser.add_argument("--no-scaling", action="store_true", help="skip the long-paragraph and deep-nesting timings")
    args = parser.parse_args()

    if args.seeds:
        extra = [
            gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            for p in sorted(args.seeds.rglob("*.html*"))
        ]
        fuzzing.SEEDS = fuzzing.SEEDS + tuple(extra)
    run_seed = args.seed if args.seed is not None else int(time.time())
    print(f"seeds: {len(fuzzing.SEEDS)} pages; hypothesis seed {run_seed}; bound {args.bound} s a page")

    fuzzing.warm_up()  # imports, language profiles, dateparser's expressions: once a process
    baseline = [fuzzing.run_one(page, fuzzing.URLS[0], None, args.bound)[0] for page in fuzzing.SEEDS]
    slowest: list[tuple[float, str, bytes]] = []
    failing: list[bytes] = []
    tried: Counter[str] = Counter()
    times: list[float] = []
    sizes: list[int] = []
    failures: list[str] = []

    @seed(run_seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # every example counts; no shrinking of failures into the figures
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzzing.hostile_pages())
    def fuzz(example: tuple[bytes | str, str, str | None, list[str]]) -> None:
        data, url, encoding, mutations = example
        elapsed, problem = fuzzing.run_one(data, url, encoding, args.bound)
        tried.update(mutations)
        tried["pages"] += 1
        times.append(elapsed)
        sizes.append(len(data))
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        slowest.append((elapsed, f"{len(data)} bytes, mutations {mutations}, charset {encoding!r}, url {url!r}", raw))
        slowest.sort(key=lambda item: -item[0])
        del slowest[5:]
        if problem:
            failures.append(
                f"{problem} | mutations {mutations} | url {url!r} | charset {encoding!r} | {len(data)} bytes"
            )

    start = time.perf_counter()
    fuzz()
    wall = time.perf_counter() - start
    smallest, largest = min(sizes, default=0), max(sizes, default=0)
    print(f"inputs tried: {tried['pages']} pages in {wall:.0f} s ({smallest} to {largest} bytes)")
    for name, count in sorted(tried.items()):
        if name != "pages":
            print(f"  {name}: {count}")
    print(f"failures: {len(failures)}")
    for line in failures[:50]:
        print(f"  {line}")
    print(f"time a page, mutated: {_figures(times)}")
    print(f"time a page, seeds as they are: {_figures(baseline)}")
    print("slowest pages:")
    for elapsed, what, _ in slowest:
        print(f"  {elapsed * 1000:.0f} ms: {what}")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, (_, _, raw) in enumerate(slowest):
            (args.save / f"slow-{i}.html").write_bytes(raw)
        for i, raw in enumerate(failing):
            (args.save / f"failure-{i}.html").write_bytes(raw)
        print(f"pages written to {args.save}")
    if baseline and times:
        print(f"ratio (median mutated / median seed): {statistics.median(times) / statistics.median(baseline):.2f}")
    if not args.no_scaling:
        print("scaling:")
        scaling(args.bound)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
