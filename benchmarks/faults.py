"""Memory of a crawl of the hostile web: the fault test's loopback site (``tests/faultserver.py``:
a 1 GB gzip bomb, 11 MB pages, 1.6 MB pages, deep pages, redirects, timeouts...), crawled for real
by ``scrapy crawl feed`` with every middleware, pipeline and extraction worker.

    python benchmarks/faults.py [--rounds 1]

The peak is the largest sum of the resident sets of the crawl process and its workers, sampled every
50 ms from ``/proc`` (:class:`benchmarks.crawl.TreeMemory`); beside it the crawl process's own
high-water mark (VmHWM). The baseline, measured in the same run, is the same crawl of a feed that
links only to the cases that give an article (no bomb, no oversized page): ``ratio`` is the fault
crawl's peak over the baseline's. The target: the crawl process stays under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.crawl import TreeMemory  # noqa: E402
from tests.faultserver import TIMEOUT, fault_web  # noqa: E402

LIMIT_MB = 500


def crawl(feed: str, db: Path) -> tuple[float, float, float, int]:
    """Crawl ``feed``; (peak MB of the tree, the crawl process's own peak MB, seconds, exit status)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    cmd = ["scrapy", "crawl", "feed", "-a", f"feed={feed}", "-s", f"NEWSCLEAN_DB={db}", "-s", "AUTOTHROTTLE_ENABLED=0",
           "-s", "DOWNLOAD_DELAY=0", "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-L", "WARNING"]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    memory = TreeMemory(proc.pid)
    memory.start()
    status = proc.wait()
    memory.stop()
    return memory.peak_kb / 1024, memory.hwm_kb.get(proc.pid, 0) / 1024, time.monotonic() - start, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="fault crawls to run (each beside a baseline)")
    args = parser.parse_args(argv)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp, fault_web(Path(tmp)) as web:
        for i in range(args.rounds):
            base_peak, base_own, base_s, _ = crawl(web.plain_feed, Path(tmp) / f"plain-{i}.sqlite")
            peak, own, seconds, status = crawl(web.feed, Path(tmp) / f"faults-{i}.sqlite")
            worst = max(worst, own)
            own_mb = f"crawl process {base_own:.0f} MB"
            print(f"baseline (articles only): peak RSS {base_peak:.0f} MB ({own_mb}), {base_s:.1f} s")
            print(f"fault crawl ({len(web.cases)} cases): peak RSS {peak:.0f} MB (crawl process {own:.0f} MB), "
                  f"{seconds:.1f} s, exit {status}")  # fmt: skip
            print(f"ratio {peak / base_peak:.2f}")
    print(f"crawl process peak {worst:.0f} MB: {'under' if worst < LIMIT_MB else 'OVER'} {LIMIT_MB} MB")
    return 0 if worst < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
