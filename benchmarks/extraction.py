"""Benchmark ``extract_article`` against plain trafilatura on a folder of real pages.

    python benchmarks/extraction.py DATA_DIR [--out preds.json] [--worst N] [--floor benchmarks/floor.json]

DATA_DIR holds ``ground-truth.json`` (id -> {"url", "articleBody"}) and ``html/<id>.html.gz``.
Both extractors run on every page in the same process, page by page in turn, so their speeds are
comparable. Prints F1 / precision / recall / accuracy and pages per second for both, the time ratio,
metadata plausibility counts and the N worst pages. With ``--floor``, exits 1 when F1 is below the
pinned floor and lists the pages whose F1 dropped against the stored per-page baseline;
``--pin`` writes the current figures to the floor file instead.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from benchmarks.metric import Score, score
from newsclean.article import Article
from newsclean.extraction import extract_article, metadata
from newsclean.extraction.html import decode, parse

# A page's F1 must not drop by more than this against the stored baseline to pass unnoticed.
PAGE_TOLERANCE = 0.005
FLOOR_TOLERANCE = 1e-4


def _load(data_dir: Path) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {key: gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes()) for key in truth}
    return truth, pages


def _site_names(html: bytes, url: str) -> set[str]:
    """Names the site goes by: its declared site name and its host name without ``www.``/TLD."""
    names: set[str] = set()
    tree = parse(decode(html))
    if tree is not None:
        names |= {n.casefold() for n in metadata.site_names(tree)}
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names |= {host.casefold(), host.split(".")[0].casefold()}
    return {n for n in names if n}


def _title_ok(article: Article | None, names: set[str]) -> bool:
    title = (article.title if article else "").strip().casefold()
    return bool(title) and title not in names


def _date_ok(article: Article | None, now: datetime) -> bool | None:
    """True for a plausible date, False for one in the future, None when there is none."""
    if article is None or not article.published:
        return None
    try:
        when = datetime.fromisoformat(article.published)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= now + timedelta(days=1)


def _print_score(name: str, result: Score, seconds: float) -> None:
    print(
        f"{name:<12} F1 {result.f1:.4f}  P {result.precision:.4f}  R {result.recall:.4f}  "
        f"accuracy {result.accuracy:.4f}  {result.pages / seconds:6.1f} pages/s  ({seconds:.2f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, help="write newsclean's predictions here (JSON {id: {articleBody}})")
    ap.add_argument("--worst", type=int, default=10, help="list the N pages with the lowest F1")
    ap.add_argument("--floor", type=Path, help="floor file to check (or to write, with --pin)")
    ap.add_argument("--pin", action="store_true", help="write the current F1 and per-page F1s to --floor")
    args = ap.parse_args(argv)

    truth, pages = _load(args.data_dir)
    ours: dict[str, str] = {}
    plain: dict[str, str] = {}
    articles: dict[str, Article | None] = {}
    t_ours = t_plain = 0.0
    for key in sorted(truth):
        url, html = truth[key].get("url", ""), pages[key]
        start = time.perf_counter()
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        t_plain += time.perf_counter() - start
        plain[key] = (getattr(doc, "text", None) or "") if doc is not None else ""
        start = time.perf_counter()
        article = extract_article(html, url)
        t_ours += time.perf_counter() - start
        articles[key] = article
        ours[key] = article.text if article else ""

    if args.out:
        args.out.write_text(
            json.dumps({k: {"articleBody": v} for k, v in ours.items()}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    s_ours, s_plain = score(truth, ours), score(truth, plain)
    print(f"pages {s_ours.pages}")
    _print_score("newsclean", s_ours, t_ours)
    _print_score("trafilatura", s_plain, t_plain)
    print(f"time ratio newsclean / trafilatura: {t_ours / t_plain:.2f}")

    now = datetime.now(UTC)
    titles = sum(_title_ok(articles[k], _site_names(pages[k], truth[k].get("url", ""))) for k in truth)
    dates = [_date_ok(articles[k], now) for k in truth]
    print(
        f"plausibility: title not just the site name {titles}/{len(truth)}; "
        f"date present {sum(d is not None for d in dates)}/{len(truth)}, "
        f"in the future {sum(d is False for d in dates)}"
    )
    for row in s_ours.rows[: args.worst]:
        print(f"  F1 {row.f1:.3f}  P {row.precision:.3f}  R {row.recall:.3f}  {row.id[:12]}  {row.url}")

    if args.floor and args.pin:
        args.floor.write_text(
            json.dumps({"f1": round(s_ours.f1, 4), "pages": {r.id: round(r.f1, 4) for r in s_ours.rows}}, indent=1)
            + "\n",
            encoding="utf-8",
        )
        print(f"pinned F1 {s_ours.f1:.4f} to {args.floor}")
    elif args.floor:
        floor = json.loads(args.floor.read_text(encoding="utf-8"))
        worse = [
            (floor["pages"][r.id], r)
            for r in s_ours.rows
            if r.id in floor.get("pages", {}) and r.f1 < floor["pages"][r.id] - PAGE_TOLERANCE
        ]
        for before, r in sorted(worse, key=lambda w: w[1].f1 - w[0]):
            print(f"  worse: F1 {before:.3f} -> {r.f1:.3f}  {r.id[:12]}  {r.url}")
        if s_ours.f1 < floor["f1"] - FLOOR_TOLERANCE:
            print(f"FAIL: F1 {s_ours.f1:.4f} is below the pinned floor {floor['f1']:.4f}")
            return 1
        print(f"ok: F1 {s_ours.f1:.4f} >= floor {floor['f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
