"""Benchmark newsclean's metadata and text against plain trafilatura on fundus-format pages.

    python benchmarks/metadata.py DATA_DIR [--worst N] [--floor benchmarks/metadata-floor.json [--pin]]

DATA_DIR holds ``cases.json`` ({"cases": {id: {"url", "title", "authors", "publishing_date",
"body", ...}}}) and ``html/<id>.html.gz``. Both extractors run on every page in the same process, page
by page in turn: newsclean's ``extract_article`` and trafilatura's ``bare_extraction(with_metadata=True)``.
Prints, for both, title exact match, authors+source F1, date and body F1 (scored as
:mod:`benchmarks.fundus_metric` says), the time ratio, and the worst cases per field. With
``--floor``, exits 1 when a figure is below the pinned floor and lists the cases that got worse;
``--pin`` writes the current figures to the floor file instead.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from benchmarks.fundus_metric import MetaScore, Prediction, evaluate
from newsclean.extraction import extract_article

FIELDS = ("title", "authors", "date", "body")
PAGE_TOLERANCE = 0.005
FLOOR_TOLERANCE = 1e-4


def _load(data_dir: Path) -> tuple[dict[str, dict], dict[str, bytes]]:
    cases = json.loads((data_dir / "cases.json").read_text(encoding="utf-8"))["cases"]
    pages = {key: gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes()) for key in cases}
    return cases, pages


def _trafilatura(html: bytes, url: str) -> Prediction:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return Prediction()
    author = getattr(doc, "author", None) or ""
    return Prediction(
        title=getattr(doc, "title", None) or "",
        authors=[a.strip() for a in author.split(";") if a.strip()],
        published=getattr(doc, "date", None) or "",
        text=getattr(doc, "text", None) or "",
    )


def _figures(result: MetaScore) -> dict[str, float]:
    return {
        "title": result.title,
        "authors": result.authors,
        "date": result.date,
        "body": result.body.f1,
    }


def _print(name: str, result: MetaScore, seconds: float) -> None:
    print(
        f"{name:<12} title {result.title:.4f} (contains {result.title_contains:.4f})  "
        f"authors+source F1 {result.authors:.4f}  date {result.date:.4f}  "
        f"body F1 {result.body.f1:.4f} (P {result.body.precision:.4f} R {result.body.recall:.4f})  "
        f"{result.cases / seconds:6.1f} pages/s ({seconds:.2f} s)"
    )


def _value(row: object, name: str) -> float | None:
    value = getattr(row, name)
    return None if value is None else float(value)


def _show(value: object, limit: int = 90) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--worst", type=int, default=8, help="list the N worst cases of each field")
    ap.add_argument("--out", type=Path, help="write newsclean's predictions here (JSON Lines)")
    ap.add_argument("--floor", type=Path, help="floor file to check (or to write, with --pin)")
    ap.add_argument("--pin", action="store_true", help="write the current figures and per-case scores to --floor")
    args = ap.parse_args(argv)

    cases, pages = _load(args.data_dir)
    ours: dict[str, Prediction] = {}
    plain: dict[str, Prediction] = {}
    t_ours = t_plain = 0.0
    for key in sorted(cases):
        url, html = cases[key].get("url", ""), pages[key]
        start = time.perf_counter()
        plain[key] = _trafilatura(html, url)
        t_plain += time.perf_counter() - start
        start = time.perf_counter()
        article = extract_article(html, url)
        t_ours += time.perf_counter() - start
        ours[key] = (
            Prediction(article.title, list(article.authors), article.source, article.published, article.text)
            if article
            else Prediction()
        )

    if args.out:
        with args.out.open("w", encoding="utf-8") as out:
            for key, p in ours.items():
                row = {"id": key, "title": p.title, "authors": p.authors, "source": p.source}
                row |= {"published": p.published, "text": p.text}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    s_ours, s_plain = evaluate(cases, ours), evaluate(cases, plain)
    print(f"cases {s_ours.cases}")
    _print("newsclean", s_ours, t_ours)
    _print("trafilatura", s_plain, t_plain)
    print(f"time ratio newsclean / trafilatura: {t_ours / t_plain:.2f}")

    expected = {
        "title": lambda c: c.get("title"),
        "authors": lambda c: c.get("authors"),
        "date": lambda c: c.get("publishing_date"),
        "body": lambda c: (c.get("body") or "")[:90],
    }
    got = {
        "title": lambda p: p.title,
        "authors": lambda p: [*p.authors, *([p.source] if p.source else [])],
        "date": lambda p: p.published,
        "body": lambda p: p.text[:90],
    }
    for name in FIELDS:
        rows = [(v, k) for k, r in s_ours.rows.items() if (v := _value(r, name)) is not None and v < 1.0]
        if not rows:
            continue
        print(f"worst {name}:")
        for value, key in sorted(rows)[: args.worst]:
            print(f"  {value:.3f}  {key}")
            print(f"      expected {_show(expected[name](cases[key]))}")
            print(f"      got      {_show(got[name](ours[key]))}")

    figures = _figures(s_ours)
    plain_figures = _figures(s_plain)
    print("against trafilatura: " + ", ".join(f"{n} {figures[n] - plain_figures[n]:+.4f}" for n in FIELDS))
    per_case = {
        k: {n: round(v, 4) for n in FIELDS if (v := _value(r, n)) is not None} for k, r in sorted(s_ours.rows.items())
    }
    if args.floor and args.pin:
        floor = {n: round(figures[n], 4) for n in FIELDS} | {"cases": per_case}
        args.floor.write_text(json.dumps(floor, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"pinned {', '.join(f'{n} {figures[n]:.4f}' for n in FIELDS)} to {args.floor}")
    elif args.floor:
        floor = json.loads(args.floor.read_text(encoding="utf-8"))
        for key, row in per_case.items():
            for name, value in row.items():
                before = floor.get("cases", {}).get(key, {}).get(name)
                if before is not None and value < before - PAGE_TOLERANCE:
                    print(f"  worse: {name} {before:.3f} -> {value:.3f}  {key}")
        below = [n for n in FIELDS if figures[n] < floor[n] - FLOOR_TOLERANCE]
        for name in below:
            print(f"FAIL: {name} {figures[name]:.4f} is below the pinned floor {floor[name]:.4f}")
        if below:
            return 1
        print("ok: " + ", ".join(f"{n} {figures[n]:.4f} >= {floor[n]:.4f}" for n in FIELDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
