"""The crawl benchmark runs end to end on a small page set, and measures memory for real."""

from __future__ import annotations

import gzip
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.crawl import TreeMemory
from newsclean.fixtures import load_fixtures

from .conftest import ROOT


def test_tree_memory_sees_a_grandchild_and_its_peak() -> None:
    # A process that starts a process that holds 80 MB for a moment, then lets it go.
    holder = "import time; data = b'x' * (80 << 20); time.sleep(1.0); del data; time.sleep(0.5)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {holder!r}])"
    parent = subprocess.Popen([sys.executable, "-c", code])
    memory = TreeMemory(parent.pid)
    memory.start()
    parent.wait(timeout=30)
    time.sleep(0.1)
    memory.stop()
    assert memory.peak_kb > 80 << 10
    assert memory.worker_hwm_kb
    assert memory.worker_hwm_kb[0] > 80 << 10  # the grandchild, by its own peak
    assert memory.hwm_kb[parent.pid] < 80 << 10  # not charged to the process that started it


def _data_dir(tmp_path: Path) -> Path:
    """The site fixtures' article pages in the benchmark's layout."""
    data = tmp_path / "pages"
    (data / "html").mkdir(parents=True)
    truth = {}
    for i, fixture in enumerate(f for f in load_fixtures() if f.kind == "article"):
        key = f"page{i:02d}"
        truth[key] = {"url": fixture.url, "articleBody": fixture.expected.get("text", "")}
        (data / "html" / f"{key}.html.gz").write_bytes(gzip.compress(fixture.body()))
    (data / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return data


@pytest.mark.crawl
def test_crawl_benchmark_runs_and_reports(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    args = [sys.executable, "benchmarks/crawl.py", str(data), "--pages", "40", "--loop-pages", "10", "--rounds", "2"]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    stored = [int(n) for n in re.findall(r"stored (\d+)", out)]
    assert len(stored) == 3, out  # two rounds with the pool, one without
    assert stored[0] == stored[1] == stored[2] > 0, out  # and they store alike
    rounds = [float(r) for r in re.findall(r"ratio to the loop's mean before and after: (\d+\.\d\d)", out)]
    assert len(rounds) == 2, out
    assert "errors 0" in out, out
    peak = re.search(r"peak RSS, 40 pages: pool (\d+) MB \(sum of each process's own peak: (\d+) MB", out)
    assert peak, out
    assert 100 < int(peak.group(1)) <= int(peak.group(2)) + 5, out
    ratio = re.fullmatch(r"ratio (\d+\.\d\d)", out.strip().splitlines()[-1])
    assert ratio, out
    assert abs(float(ratio.group(1)) - statistics.median(rounds)) < 0.006  # the median of the rounds
