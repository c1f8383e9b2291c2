"""The metadata benchmark runs end to end on a fundus-format folder and scores as the metric says."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.fundus_metric import Prediction, date_ok, evaluate, name_set
from newsclean.fixtures import load_fixtures

from .conftest import ROOT


def _cases(tmp_path: Path) -> Path:
    """The site fixtures' article pages in the fundus layout, their expected fields as the truth."""
    data = tmp_path / "fundus"
    (data / "html").mkdir(parents=True)
    cases = {}
    for i, fixture in enumerate(f for f in load_fixtures() if f.kind == "article"):
        key = f"case{i:02d}"
        want = fixture.expected
        cases[key] = {
            "url": fixture.url,
            "title": want["title"],
            "authors": [*want["authors"], *([want["source"]] if want["source"] else [])],
            "publishing_date": want["published"],
            "body": want["text"],
        }
        (data / "html" / f"{key}.html.gz").write_bytes(gzip.compress(fixture.body()))
    (data / "cases.json").write_text(json.dumps({"cases": cases}), encoding="utf-8")
    return data


def test_metric_rules() -> None:
    assert date_ok("2024-12-27 10:30:00+03:00", "2024-12-27T07:30:00+00:00")  # the same moment
    assert not date_ok("2024-12-27 10:30:00+03:00", "2024-12-27T10:30:00+00:00")
    assert date_ok("2024-12-27", "2024-12-27T23:00:00+05:00")  # the day alone where one side has no time
    assert name_set(["  Ann Lee. ", "ANN LEE", ""]) == {"ann lee"}
    cases = {"a": {"title": "Night  Buses", "authors": ["Ann Lee", "AFP"], "publishing_date": "2024-12-27", "body": ""}}
    score = evaluate(cases, {"a": Prediction(title="night buses", authors=["Ann Lee"], source="AFP")})
    assert (score.title, score.authors) == (1.0, 1.0)


def test_metadata_benchmark_runs_pins_and_checks_its_floor(tmp_path: Path) -> None:
    data, floor = _cases(tmp_path), tmp_path / "floor.json"
    base = [sys.executable, "benchmarks/metadata.py", str(data), "--floor", str(floor)]
    pinned = subprocess.run([*base, "--pin"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert pinned.returncode == 0, pinned.stderr[-3000:]
    line = r"newsclean +title (\d\.\d{4}) .* authors\+source F1 (\d\.\d{4})  date (\d\.\d{4})  body F1 (\d\.\d{4})"
    figures = re.search(line, pinned.stdout)
    assert figures, pinned.stdout
    title, authors, date, body = (float(x) for x in figures.groups())
    assert (title, date, body) == (1.0, 1.0, 1.0)  # the fixtures' own fields
    # The metric splits a credit line at "and" and "&" ("Staff and agencies"): those count as misses.
    assert 0.5 < authors <= 1.0
    assert re.search(r"^trafilatura +title \d\.\d{4}", pinned.stdout, re.M)
    assert re.search(r"^time ratio newsclean / trafilatura: \d+\.\d\d$", pinned.stdout, re.M)
    checked = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0
    assert "ok: title 1.0000 >= 1.0000" in checked.stdout
    stored = json.loads(floor.read_text(encoding="utf-8"))
    stored["body"] = 1.5  # a floor no run can reach
    floor.write_text(json.dumps(stored), encoding="utf-8")
    failed = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "FAIL: body 1.0000 is below the pinned floor 1.5000" in failed.stdout
