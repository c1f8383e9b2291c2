"""The metadata benchmark's metric (fundus-format pages), re-implemented inside the project.

Pages and expected values come from the fundus project's parser test data (flairNLP/fundus, MIT
licence): for each case a ``title``, ``authors``, ``publishing_date`` and plain-text ``body`` as its
hand-written per-site parsers extract them. Per field:

- title: exact match after Unicode NFKC, case and whitespace normalisation (zero-width / format
  characters dropped); "contains" (one normalised title holds the other) is for information.
- authors: per-page set F1 on normalised names of ``authors`` + ``source`` (an agency credited in the
  byline is an author in fundus's data; newsclean files it under ``source``, so both count).
- date: right when the calendar day is the expected one and, when both sides carry a time, the time
  agrees to the minute (an aware time is read in the expected time zone).
- body: the 4-token shingle F1 of :mod:`benchmarks.metric` against fundus's plain body text
  (summary, section headlines and paragraphs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from benchmarks.metric import Score, score

EDGE_PUNCT = " \t\n,;:.-–—|/·•*()[]\"'“”„‘’«»"
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_SOURCE_SPLIT = re.compile(r"\s*[,;/]\s*|\s+(?:and|und|&)\s+")


def norm(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return re.sub(r"\s+", " ", text).strip().casefold()


def name_set(names: Any) -> set[str]:
    return {n for n in (norm(x).strip(EDGE_PUNCT) for x in names or []) if n}


def parse_when(text: str | None) -> tuple[date | datetime, bool] | None:
    """(datetime or date, whether it has a time), or None."""
    if not text:
        return None
    s = str(text).strip()
    try:
        if len(s) == 10:
            return date.fromisoformat(s), False
        return datetime.fromisoformat(s.replace("Z", "+00:00")), True
    except ValueError:
        pass
    m = _DATE_RE.search(s)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        if hh is None:
            return date(int(y), int(mo), int(d)), False
        return datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0)), True
    except ValueError:
        return None


def date_ok(expected: str | None, got: str | None) -> bool:
    e, g = parse_when(expected), parse_when(got)
    if e is None or g is None:
        return False
    ev, e_time = e
    gv, g_time = g
    if e_time and g_time:
        assert isinstance(ev, datetime)
        assert isinstance(gv, datetime)
        if ev.tzinfo is not None and gv.tzinfo is not None:
            gv = gv.astimezone(ev.tzinfo)
        ev_n, gv_n = ev.replace(tzinfo=None), gv.replace(tzinfo=None)
        return ev_n.replace(second=0, microsecond=0) == gv_n.replace(second=0, microsecond=0)
    e_day = ev.date() if isinstance(ev, datetime) else ev
    g_day = gv.date() if isinstance(gv, datetime) else gv
    return e_day == g_day


def set_f1(expected: set[str], got: set[str]) -> float:
    return 2 * len(expected & got) / (len(expected) + len(got)) if expected or got else 0.0


@dataclass
class Prediction:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    source: str = ""
    published: str = ""
    text: str = ""


@dataclass
class CaseScore:
    id: str
    title: bool | None = None
    authors: float | None = None
    date: bool | None = None
    body: float | None = None


@dataclass
class MetaScore:
    cases: int
    title: float
    title_contains: float
    authors: float
    date: float
    body: Score
    rows: dict[str, CaseScore]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(cases: dict[str, dict[str, Any]], preds: dict[str, Prediction]) -> MetaScore:
    """Score ``preds`` (case id -> Prediction) against fundus-format ``cases``."""
    titles: list[float] = []
    contains: list[float] = []
    authors: list[float] = []
    dates: list[float] = []
    rows: dict[str, CaseScore] = {}
    for cid, case in cases.items():
        p = preds.get(cid) or Prediction()
        row = rows[cid] = CaseScore(cid)
        et, gt = norm(case.get("title")), norm(p.title)
        if et:
            row.title = et == gt
            titles.append(row.title)
            contains.append(bool(gt) and (et in gt or gt in et))
        if case.get("authors"):
            got = name_set(p.authors) | name_set(_SOURCE_SPLIT.split(p.source or ""))
            row.authors = set_f1(name_set(case["authors"]), got)
            authors.append(row.authors)
        if case.get("publishing_date"):
            row.date = date_ok(case["publishing_date"], p.published)
            dates.append(row.date)
    truth = {cid: {"articleBody": c.get("body") or "", "url": c.get("url", "")} for cid, c in cases.items()}
    body = score(truth, {cid: (preds.get(cid) or Prediction()).text for cid in cases})
    for r in body.rows:
        rows[r.id].body = r.f1
    return MetaScore(len(cases), _mean(titles), _mean(contains), _mean(authors), _mean(dates), body, rows)
