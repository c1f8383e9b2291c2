"""The README's commands for analysis, end to end on the demo store: ``newsclean export``, ``schema``
and ``report``, and ``scrapy crawl <site> -O articles.parquet``; files read back by pyarrow and DuckDB."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from newsclean.cli import main
from newsclean.fixtures import load_fixtures
from newsclean.store import export_schema as schema

from .conftest import ROOT
from .helpers import crawl_cmd, rows, run

pytestmark = pytest.mark.crawl

WHEAT_TMT = "https://www.themoscowtimes.com/2024/12/30/russian-wheat-exports-slow-ahead-of-february-quota-a87486"
WHEAT_TMT_DRIFT = "https://www.themoscowtimes.com/2024/12/30/russian-wheat-exports-slow-ahead-of-february-quota-a87612"
WHEAT_GUARDIAN = "https://www.theguardian.com/business/2024/dec/30/russia-wheat-exports-fall-ahead-of-february-quota"
SEED_TMT = "https://www.themoscowtimes.com/2024/12/27/ukraine-captured-north-korean-soldier-fighting-alongside-russia-south-korea-says-a87467"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    proc = subprocess.run(
        ["newsclean", "demo", "--db", str(db)], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_export_every_format_from_the_demo_store(demo_db: Path, tmp_path: Path) -> None:
    stored = rows(demo_db)
    for fmt in ("parquet", "csv", "jsonl"):
        status, said = _cli("export", "--db", str(demo_db), "--format", fmt, "-o", str(tmp_path / f"all.{fmt}"))
        assert status == 0
        assert said.startswith(f"{len(stored)} articles written to")
    table = pq.read_table(tmp_path / "all.parquet")
    assert table.schema.metadata[b"newsclean:schema_version"] == schema.SCHEMA_VERSION.encode()
    assert sorted(table.column("canonical_url").to_pylist()) == sorted(stored)
    con = duckdb.connect()
    for fmt, reader in (("parquet", "read_parquet"), ("csv", "read_csv"), ("jsonl", "read_json")):
        found = con.execute(
            f"SELECT canonical_url, cluster, cluster_original FROM {reader}(?) ORDER BY canonical_url",
            [str(tmp_path / f"all.{fmt}")],
        ).fetchall()
        assert [r[0] for r in found] == sorted(stored)
        clusters = {url: (cluster, original) for url, cluster, original in found}
        # The wire copy and its original share a cluster on two sites; the rewritten seed story does not.
        assert clusters[WHEAT_TMT] == clusters[WHEAT_GUARDIAN]
        assert clusters[WHEAT_GUARDIAN][1] == WHEAT_TMT
        # With them, the drift fixture: the same Moscow Times story again, in a changed layout.
        members = sorted(url for url, (c, _) in clusters.items() if c == clusters[WHEAT_TMT][0])
        assert members == sorted([WHEAT_TMT, WHEAT_GUARDIAN, WHEAT_TMT_DRIFT])
        assert sum(1 for c, _ in clusters.values() if c == clusters[SEED_TMT][0]) == 1
    assert json.loads((tmp_path / "schema.json").read_text(encoding="utf-8"))["version"] == schema.SCHEMA_VERSION


def test_export_filters_and_refuses_bad_input(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "guardian.parquet"
    status, _ = _cli("export", "--db", str(demo_db), "--site", "theguardian", "--since", "2024-12-29", "-o", str(out))
    assert status == 0
    got = sorted(pq.read_table(out).column("canonical_url").to_pylist())
    expected = sorted(
        f.expected["canonical_url"]
        for f in load_fixtures(site="theguardian")
        if f.kind == "article" and f.expected["published"][:10] >= "2024-12-29"
    )
    assert got == expected
    assert 0 < len(got) < len(rows(demo_db))
    for argv in (
        ["-o", str(tmp_path / "x.txt")],  # no format, and none to tell from the name
        ["--since", "someday", "-o", str(tmp_path / "x.parquet")],
        ["--db", str(tmp_path / "missing.sqlite"), "-o", str(tmp_path / "x.parquet")],
    ):
        assert main(["export", "--db", str(demo_db), *argv]) == 2
    assert not list(tmp_path.glob("x.*"))


def test_schema_command_and_the_readme_table() -> None:
    status, text = _cli("schema")
    assert status == 0
    assert text.splitlines()[0] == f"newsclean-articles {schema.SCHEMA_VERSION}"
    assert [line.split()[0] for line in text.splitlines()[1:]] == list(schema.FIELD_NAMES)
    assert json.loads(_cli("schema", "--json")[1])["version"] == schema.SCHEMA_VERSION
    markdown = _cli("schema", "--markdown")[1]
    assert markdown in (ROOT / "README.md").read_text(encoding="utf-8")


def test_agency_table_is_in_the_readme() -> None:
    from newsclean.extraction.agencies import agency_table

    assert agency_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_report_command_writes_one_self_contained_page(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    status, said = _cli("report", "--db", str(demo_db), "-o", str(out))
    assert status == 0
    assert said == f"site-health report written to {out}\n"
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 4 * 3  # four plots for each of the three sites' runs
    assert "http://" not in html.replace('href="http', "")  # nothing to fetch: links only
    assert "<script" not in html


def test_scrapy_crawl_writes_parquet_through_the_feed_exporter(
    mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    db, out = tmp_path / "store.sqlite", tmp_path / "articles.parquet"
    run([*crawl_cmd("themoscowtimes", mirror, db), "-O", str(out)], run_env)
    run([*crawl_cmd("theguardian", mirror, db), "-O", str(out)], run_env)  # -O: overwritten
    table = pq.read_table(out)
    assert table.schema.metadata[b"newsclean:schema_version"] == schema.SCHEMA_VERSION.encode()
    assert table.schema.names == list(schema.FIELD_NAMES)
    exported = {r["canonical_url"]: r for r in table.to_pylist()}
    stored = {u: r for u, r in rows(db).items() if r["site"] == "theguardian"}
    assert set(exported) == set(stored)
    for url, row in exported.items():
        assert row["text"] == stored[url]["text"]
        assert row["cluster"] == stored[url]["cluster"]
    # The Guardian's copy was crawled after the Moscow Times' original: the store knew it by then.
    # (3: with the drift fixture, the same Moscow Times story in a changed layout.)
    assert (exported[WHEAT_GUARDIAN]["cluster_original"], exported[WHEAT_GUARDIAN]["cluster_size"]) == (WHEAT_TMT, 3)
    assert exported[WHEAT_GUARDIAN]["source_evidence"] == ["byline:Reuters", "dateline:Reuters", "credit:Reuters"]
    con = duckdb.connect()
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone() == (len(stored),)
