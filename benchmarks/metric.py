"""The article-extraction benchmark's published metric, re-implemented inside the project.

The metric is that of Scrapinghub's article-extraction-benchmark
(https://github.com/scrapinghub/article-extraction-benchmark), MIT licence:

    Copyright (c) 2020 Scrapinghub

    Permission is hereby granted, free of charge, to any person obtaining a copy of this software
    and associated documentation files (the "Software"), to deal in the Software without
    restriction, including without limitation the rights to use, copy, modify, merge, publish,
    distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
    Software is furnished to do so, subject to the following conditions: The above copyright notice
    and this permission notice shall be included in all copies or substantial portions of the
    Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.

Per page: the text is cut into word tokens (``\\w+``, case kept), the tokens into overlapping
4-token shingles; the multisets of shingles of prediction and truth give true positives (shared),
false positives (extra in the prediction) and false negatives (missing), normalised by their sum so
every page weighs the same. Precision and recall are means over pages (a page with no predicted
shingle is left out of the precision mean, one with no true shingle out of the recall mean), F1 is
their harmonic mean, accuracy the share of pages whose token lists are identical.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def tokens(text: str) -> list[str]:
    return WORD.findall(text or "")


def shingles(text: str) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    if len(toks) < SHINGLE:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1))


def page_counts(truth: str, pred: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, normalised by their sum."""
    t, p = shingles(truth), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == 0 and fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == 0 and fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


@dataclass
class PageScore:
    id: str
    url: str
    f1: float
    precision: float
    recall: float


@dataclass
class Score:
    pages: int
    f1: float
    precision: float
    recall: float
    accuracy: float
    rows: list[PageScore] = field(default_factory=list)


def score(truth: dict[str, dict[str, str]], pred: dict[str, str]) -> Score:
    """Score ``pred`` (id -> text) against ``truth`` (id -> {"url", "articleBody"})."""
    precisions: list[float] = []
    recalls: list[float] = []
    exact: list[float] = []
    rows = []
    for key in sorted(truth):
        t = truth[key].get("articleBody", "") or ""
        p = pred.get(key, "") or ""
        tp, fp, fn = page_counts(t, p)
        if tp + fp > 0:
            precisions.append(_precision(tp, fp, fn))
        if tp + fn > 0:
            recalls.append(_recall(tp, fp, fn))
        exact.append(float(tokens(t) == tokens(p)))
        pp, rr = _precision(tp, fp, fn), _recall(tp, fp, fn)
        f1 = 2 * pp * rr / (pp + rr) if pp + rr else 0.0
        rows.append(PageScore(key, truth[key].get("url", ""), f1, pp, rr))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rows.sort(key=lambda r: (r.f1, r.id))
    return Score(len(truth), f1, precision, recall, sum(exact) / len(exact) if exact else 0.0, rows)
