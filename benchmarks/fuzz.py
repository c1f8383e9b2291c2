"""Fuzz ``extract`` for longer than CI does, and report what was tried and how long pages took.

    python benchmarks/fuzz.py [--examples 1000] [--bound 10] [--seed N] [--seeds DIR]

Feeds ``extract`` the hostile pages of ``tests/fuzzing.py`` (the fixture pages mutated: byte flips,
truncation, tag deletion, deep nesting, huge attributes, mixed encodings, control characters,
random bytes, backtracking bait, repeated chunks; with odd URLs and HTTP charsets), at random.
``--seeds DIR`` adds every ``*.html`` / ``*.html.gz`` page under DIR (say a benchmark's pages) to
the seeds. Prints the inputs tried by mutation, the failures (an exception reaching extraction's
catch-all, or a page over ``--bound`` seconds) with how to rebuild them, and the maximum, median and
95th percentile time a page took, beside the same figures for the unmutated seeds in the same run.
Exits 1 when anything failed.
"""

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--bound", type=float, default=10.0, help="seconds a page may take")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    parser.add_argument("--seeds", type=Path, default=None, help="folder of extra seed pages")
    args = parser.parse_args()

    if args.seeds:
        extra = [
            gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            for p in sorted(args.seeds.rglob("*.html*"))
        ]
        fuzzing.SEEDS = fuzzing.SEEDS + tuple(extra)
    run_seed = args.seed if args.seed is not None else int(time.time())
    print(f"seeds: {len(fuzzing.SEEDS)} pages; hypothesis seed {run_seed}; bound {args.bound} s a page")

    baseline = [fuzzing.run_one(page, fuzzing.URLS[0], None, args.bound)[0] for page in fuzzing.SEEDS]
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
    if baseline and times:
        print(f"ratio (median mutated / median seed): {statistics.median(times) / statistics.median(baseline):.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
