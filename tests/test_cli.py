"""The ``newsclean`` command line."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
from pathlib import Path

import pytest

from newsclean.article import ARTICLE_FIELDS, field_table
from newsclean.cli import main
from newsclean.fixtures import load_fixtures

from .conftest import ROOT

SEED = next(f for f in load_fixtures(site="themoscowtimes") if f.kind == "article")


def _run(*argv: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_extract_prints_every_field_and_the_input(tmp_path: Path) -> None:
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(SEED.body()))
    status, records = _run("extract", str(SEED.body_path), str(gz), "--url", SEED.url)
    assert status == 0
    assert len(records) == 2
    for record, path in zip(records, [str(SEED.body_path), str(gz)], strict=True):
        assert record["input"] == path
        assert set(ARTICLE_FIELDS) <= set(record)
        assert record["text"] == SEED.expected["text"]
        assert record["rules"] == "themoscowtimes"


def test_extract_reads_stdin(run_env: dict[str, str]) -> None:
    proc = subprocess.run(
        ["newsclean", "extract", "-", "--url", SEED.url],
        input=SEED.body(),
        env=run_env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["input"] == "-"
    assert record["title"] == SEED.expected["title"]


def test_extract_missing_file_exits_2_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["extract", str(SEED.body_path), "/nonexistent/page.html"], out=out) == 2
    assert out.getvalue() == ""
    assert "no such file: /nonexistent/page.html" in capsys.readouterr().err


def test_extract_non_article_gives_null_text_and_reason(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><head><title>x</title></head><body><script>app()</script></body></html>", encoding="utf-8")
    status, [record] = _run("extract", str(page))
    assert status == 0
    assert record["text"] is None
    assert record["reason"] == "no article text found"


def test_fields_table_is_in_the_readme() -> None:
    out = io.StringIO()
    assert main(["fields"], out=out) == 0
    assert out.getvalue() == field_table()
    assert field_table() in (ROOT / "README.md").read_text(encoding="utf-8")
