"""Exports of a real store, read back by independent readers (pyarrow, DuckDB)."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsclean import store
from newsclean.article import Article
from newsclean.extraction import extract_article
from newsclean.fixtures import load_fixtures
from newsclean.store import export
from newsclean.store import export_schema as schema

WHEAT_TMT = "https://www.themoscowtimes.com/2024/12/30/russian-wheat-exports-slow-ahead-of-february-quota-a87486"
WHEAT_GUARDIAN = "https://www.theguardian.com/business/2024/dec/30/russia-wheat-exports-fall-ahead-of-february-quota"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store.sqlite"
    with closing(store.connect(path)) as conn:
        for fixture in load_fixtures():
            # Drift fixtures (drift_*) are other fixtures' articles in a changed layout: copies, left out.
            if fixture.kind == "article" and not fixture.body_path.name.startswith("drift_"):
                article = extract_article(fixture.body(), fixture.url)
                assert article is not None
                article.fetched_at = "2026-11-24T09:00:00+00:00"
                store.save_article(conn, dataclasses.asdict(article))
    return path


def _stored(db: Path) -> dict[str, dict[str, Any]]:
    with closing(store.connect(db)) as conn:
        return {r["canonical_url"]: dict(r) for r in conn.execute("SELECT * FROM articles")}


def _export(db: Path, out: Path, fmt: str, filters: export.Filters | None = None) -> int:
    with closing(store.connect(db)) as conn:
        return export.export(conn, out, fmt, filters)


def test_parquet_export_has_the_schema_the_version_and_every_article(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "articles.parquet"
    stored = _stored(db)
    assert _export(db, out, "parquet") == len(stored) >= 12
    parquet = pq.ParquetFile(out)
    assert parquet.schema_arrow.metadata[b"newsclean:schema_version"] == schema.SCHEMA_VERSION.encode()
    table = parquet.read()
    assert table.schema.field("authors").type == pa.list_(pa.string())
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.schema.field("published").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("word_count").type == pa.int64()
    assert table.schema.field("language_probability").type == pa.float64()
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    rows = {r["canonical_url"]: r for r in table.to_pylist()}
    assert set(rows) == set(stored)
    for url, row in stored.items():
        got = rows[url]
        assert got["text"] == row["text"]
        assert got["tags"] == json.loads(row["tags"])
        assert got["word_count"] == row["word_count"]
        published = datetime.fromisoformat(row["published"])
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
        assert got["published"] == published
    # The wire copy: one cluster, the Moscow Times page its original (published 06:30 UTC, 5 h earlier).
    tmt, guardian = rows[WHEAT_TMT], rows[WHEAT_GUARDIAN]
    assert tmt["cluster"] == guardian["cluster"]
    assert (tmt["cluster_original"], guardian["cluster_original"]) == (WHEAT_TMT, WHEAT_TMT)
    assert guardian["cluster_size"] == 2
    assert guardian["source_evidence"] == ["byline:Reuters", "dateline:Reuters", "credit:Reuters"]
    others = [r for u, r in rows.items() if u not in (WHEAT_TMT, WHEAT_GUARDIAN)]
    assert all(r["cluster_size"] == 1 and r["cluster_original"] == r["canonical_url"] for r in others)
    assert len({r["cluster"] for r in rows.values()}) == len(rows) - 1


def test_duckdb_reads_the_parquet_export(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "articles.parquet"
    _export(db, out, "parquet")
    con = duckdb.connect()
    count, clusters, words = con.execute(
        "SELECT count(*), count(DISTINCT cluster), sum(word_count) FROM read_parquet(?)", [str(out)]
    ).fetchone()
    stored = _stored(db)
    assert (count, clusters, words) == (len(stored), len(stored) - 1, sum(r["word_count"] for r in stored.values()))
    kind = con.execute("SELECT typeof(published), typeof(tags) FROM read_parquet(?) LIMIT 1", [str(out)]).fetchone()
    assert kind == ("TIMESTAMP WITH TIME ZONE", "VARCHAR[]")


def test_filters_by_site_language_and_dates(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "some.parquet"
    filters = export.Filters(
        sites=["themoscowtimes", "theguardian"],
        languages=["en"],
        since=export.parse_bound("2024-12-28"),
        until=export.parse_bound("2024-12-30", end=True),
    )
    _export(db, out, "parquet", filters)
    rows = pq.read_table(out).to_pylist()
    expected = [
        r
        for r in _stored(db).values()
        if r["site"] in ("themoscowtimes", "theguardian") and "2024-12-28" <= r["published"][:10] <= "2024-12-30"
    ]
    assert sorted(r["canonical_url"] for r in rows) == sorted(r["canonical_url"] for r in expected)
    assert 0 < len(rows) < len(_stored(db))


def test_csv_and_jsonl_exports_with_schema_json_beside(db: Path, tmp_path: Path) -> None:
    stored = _stored(db)
    assert _export(db, tmp_path / "a.csv", "csv") == len(stored)
    assert _export(db, tmp_path / "a.jsonl", "jsonl") == len(stored)
    described = json.loads((tmp_path / "schema.json").read_text(encoding="utf-8"))
    assert described["version"] == schema.SCHEMA_VERSION
    assert [f["name"] for f in described["fields"]] == list(schema.FIELD_NAMES)
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(schema.FIELD_NAMES)
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    for row, line in zip(rows, lines, strict=True):
        original = stored[row["canonical_url"]]
        assert row["text"] == line["text"] == original["text"]  # paragraphs' newlines survive CSV quoting
        assert json.loads(row["authors"]) == line["authors"] == json.loads(original["authors"])
        assert row["fetched_at"] == line["fetched_at"] == "2026-11-24T09:00:00Z"
    # DuckDB reads both back with the same rows.
    con = duckdb.connect()
    assert con.execute("SELECT count(*) FROM read_csv(?)", [str(tmp_path / "a.csv")]).fetchone() == (len(stored),)
    assert con.execute("SELECT count(*) FROM read_json(?)", [str(tmp_path / "a.jsonl")]).fetchone() == (len(stored),)


def test_a_failed_export_leaves_no_file_and_the_old_one_untouched(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "articles.parquet"
    out.write_bytes(b"the previous export")

    def broken() -> Iterator[dict[str, Any]]:
        with closing(store.connect(db)) as conn:
            for i, record in enumerate(export.records(conn)):
                if i == 5:
                    raise RuntimeError("store went away")
                yield record

    with pytest.raises(RuntimeError, match="store went away"):
        export.write(broken(), out, "parquet")
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.parquet"]


def test_row_groups_are_written_as_they_fill(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "small-groups.parquet"
    with closing(store.connect(db)) as conn:
        writer = export.ParquetArticleWriter(out, row_group_rows=4)
        for record in export.records(conn):
            writer.write(record)
        writer.close()
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_rows == len(_stored(db))
    assert parquet.metadata.num_row_groups == -(-len(_stored(db)) // 4)


def test_both_read_paths_give_the_same_table_and_odd_dates_are_read(tmp_path: Path) -> None:
    path = tmp_path / "odd.sqlite"
    published = ["2024-12-27", "2024-12-27T10:30:00", "2024-12-27T10:30:00+03:00", "", "27 December 2024 10:30"]
    with closing(store.connect(path)) as conn:
        for i, when in enumerate(published):
            text = f"Story {i} " + " ".join(f"word{i}x{j}" for j in range(40))
            article = Article(url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}", text=text)
            article.published, article.authors = when, ["Jane Roe", 'A "quoted", name'][: i % 3]
            store.save_article(conn, dataclasses.asdict(article.finish()))
        arrow = pa.Table.from_batches(export.arrow_batches(conn), schema=schema.arrow_schema())
        plain = pa.Table.from_batches(export.arrow_batches(conn, adbc=False), schema=schema.arrow_schema())
    assert arrow.equals(plain)
    assert arrow.column("published").to_pylist() == [
        datetime(2024, 12, 27, tzinfo=UTC),
        datetime(2024, 12, 27, 10, 30, tzinfo=UTC),
        datetime(2024, 12, 27, 7, 30, tzinfo=UTC),
        None,
        datetime(2024, 12, 27, 10, 30, tzinfo=UTC),
    ]
    assert arrow.column("authors").to_pylist() == [[], ["Jane Roe"], ["Jane Roe", 'A "quoted", name'], [], ["Jane Roe"]]
