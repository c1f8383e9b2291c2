"""The site-health page: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched)
for the person who runs the crawls. Per site: articles per run over time, the share of article pages
dropped or turned away and why, average text length, the share of pages where the site's rules
missed, the last run's alarms, and the latest articles. Plain functions on a store connection.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from newsclean.dates import now, now_iso, parse_time

# Runs per site shown in the plots (the newest), and articles listed per site.
RUNS_SHOWN = 60
LATEST_ARTICLES = 10
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:16px;
color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:12px 0 4px;color:#444}.meta{color:#666;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:12px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee;vertical-align:top}
th{color:#555;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#2a7d2a}.alarm{color:#b00020;font-weight:600}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
svg{display:block;width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#555}
a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}
"""


def _runs(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """Finished runs per spider, oldest first, ``dropped``/``errors`` decoded (the newest RUNS_SHOWN)."""
    by_site: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute("SELECT * FROM runs WHERE end IS NOT NULL ORDER BY id"):
        record = dict(row)
        record["dropped"] = json.loads(record.get("dropped") or "{}")
        record["errors"] = json.loads(record.get("errors") or "{}")
        record["when"] = parse_time(record["start"]) or now()
        by_site.setdefault(record["spider"], []).append(record)
    return {site: runs[-RUNS_SHOWN:] for site, runs in sorted(by_site.items())}


def _latest(conn: Any, site: str) -> list[dict[str, Any]]:
    query = (
        "SELECT url, title, published, fetched_at, source, cluster, word_count FROM articles WHERE site = ? "
        "ORDER BY fetched_at DESC, published DESC LIMIT ?"
    )
    return [dict(r) for r in conn.execute(query, (site, LATEST_ARTICLES))]


def _cluster_sizes(conn: Any, ids: Sequence[str]) -> dict[str, int]:
    if not ids or conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'clusters'").fetchone() is None:
        return {}
    marks = ", ".join("?" * len(ids))
    return {r[0]: r[1] for r in conn.execute(f"SELECT id, size FROM clusters WHERE id IN ({marks})", list(ids))}


def share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def dropped_share(run: dict[str, Any]) -> float:
    """Share of the run's article pages dropped or turned away (any reason)."""
    return share(sum(run["dropped"].values()), run.get("article_pages") or 0)


def rules_missed_share(run: dict[str, Any]) -> float:
    """Share of the run's article pages where the site's rules matched no article body."""
    return share(run.get("rules_missed") or 0, run.get("article_pages") or 0)


def _x_positions(count: int, left: float, width: float) -> list[float]:
    if count == 1:
        return [left + width / 2]
    return [left + width * i / (count - 1) for i in range(count)]


def _axis_label(when: datetime) -> str:
    return when.strftime("%d %b %H:%M")


def line_chart(
    title: str,
    runs: list[dict[str, Any]],
    series: Sequence[tuple[str, Any]],
    percent: bool = False,
    width: int = 520,
    height: int = 170,
) -> str:
    """An inline SVG line chart: one line per ``(label, run -> value)`` over the runs, in run order."""
    left, right, top, bottom = 44, 10, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [[float(fn(r)) for r in runs] for _, fn in series]
    peak = max([v for vs in values for v in vs] + [0.1 if percent else 1.0])
    xs = _x_positions(len(runs), left, plot_w)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" ><title>{escape(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ddd"/>',
    ]
    for frac in (0, 0.5, 1):
        value = peak * frac
        label = f"{value:.0%}" if percent else f"{value:,.0f}"
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{label}</text>')
    if runs:
        for i in sorted({0, len(runs) - 1}):
            anchor = "start" if i == 0 and len(runs) > 1 else ("end" if len(runs) > 1 else "middle")
            parts.append(
                f'<text x="{xs[i]:.1f}" y="{height - 10}" text-anchor="{anchor}">{_axis_label(runs[i]["when"])}</text>'
            )
    for k, ((label, _), vals) in enumerate(zip(series, values, strict=True)):
        color = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, vals, strict=True))
        if len(vals) > 1:
            parts.append(f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        for x, v, run in zip(xs, vals, runs, strict=True):
            shown = f"{v:.1%}" if percent else f"{v:,.1f}".removesuffix(".0")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3" fill="{color}"><title>{escape(label)}, '
                f"{escape(_axis_label(run['when']))}: {shown}</title></circle>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{PALETTE[k % len(PALETTE)]}"></i>{escape(label)}</span>'
        for k, (label, _) in enumerate(series)
    )
    return f'<h3>{escape(title)}</h3><div class="legend">{legend}</div>' + "".join(parts)


def stacked_bars(title: str, runs: list[dict[str, Any]], width: int = 520, height: int = 170) -> str:
    """An inline SVG of each run's dropped and turned-away pages as shares of its article pages,
    stacked by reason."""
    reasons = [r for r, _ in Counter(k for run in runs for k in run["dropped"]).most_common()]
    left, right, top, bottom = 44, 10, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([dropped_share(r) for r in runs] + [0.1])
    slot = plot_w / max(len(runs), 1)
    bar = max(min(slot * 0.7, 24), 1.5)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" ><title>{escape(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ddd"/>',
    ]
    for frac in (0, 0.5, 1):
        yv = top + plot_h - plot_h * frac
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yv:.1f}" y2="{yv:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 4}" y="{yv + 4:.1f}" text-anchor="end">{peak * frac:.0%}</text>')
    for i, run in enumerate(runs):
        x = left + slot * i + (slot - bar) / 2
        base = top + plot_h
        pages = run.get("article_pages") or 0
        for k, reason in enumerate(reasons):
            count = run["dropped"].get(reason, 0)
            if not count or not pages:
                continue
            h = plot_h * share(count, pages) / peak
            base -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(reason)}, {escape(_axis_label(run["when"]))}: '
                f"{count} of {pages} article pages</title></rect>"
            )
    if runs:
        parts.append(f'<text x="{left}" y="{height - 10}">{_axis_label(runs[0]["when"])}</text>')
        if len(runs) > 1:
            parts.append(
                f'<text x="{left + plot_w}" y="{height - 10}" text-anchor="end">{_axis_label(runs[-1]["when"])}</text>'
            )
    parts.append("</svg>")
    legend = (
        "".join(
            f'<span><i style="background:{PALETTE[k % len(PALETTE)]}"></i>{escape(reason)}</span>'
            for k, reason in enumerate(reasons)
        )
        or "<span>nothing dropped</span>"
    )
    return f'<h3>{escape(title)}</h3><div class="legend">{legend}</div>' + "".join(parts)


def _safe_link(url: str, text: str) -> str:
    if url.startswith(("https://", "http://")):
        return f'<a href="{escape(url)}" rel="noreferrer noopener">{escape(text or url)}</a>'
    return escape(text or url)


def _site_section(conn: Any, site: str, runs: list[dict[str, Any]]) -> str:
    last = runs[-1] if runs else None
    out = [f'<section class="site" id="site-{escape(site)}"><h2>{escape(site)}</h2>']
    if last is not None:
        alarm = last.get("alarm") or ""
        status = f'<span class="alarm">alarm: {escape(alarm)}</span>' if alarm else '<span class="ok">no alarm</span>'
        out.append(
            f'<p class="meta">{len(runs)} runs shown; last run {escape(last["start"])}: {status}; '
            f"{last['pages_fetched']} pages fetched, {last['articles']} articles found, {last['new']} new, "
            f"{last['updated']} updated</p>"
        )
        out.append('<div class="grid">')
        out.append(
            '<div class="card">'
            + line_chart(
                "Articles per run",
                runs,
                [("articles found", lambda r: r["articles"]), ("new", lambda r: r["new"])],
            )
            + "</div>"
        )
        out.append(
            '<div class="card">' + stacked_bars("Article pages dropped or turned away, by reason", runs) + "</div>"
        )
        out.append(
            '<div class="card">'
            + line_chart("Average text length (words)", runs, [("words per article", lambda r: r["avg_words"])])
            + "</div>"
        )
        out.append(
            '<div class="card">'
            + line_chart(
                "Share of article pages where the site's rules missed",
                runs,
                [("rules missed", rules_missed_share), ("dropped, all reasons", dropped_share)],
                percent=True,
            )
            + "</div>"
        )
        out.append("</div>")
        reasons = sorted({**last["dropped"], **{f"error: {k}": v for k, v in last["errors"].items()}}.items())
        if reasons:
            rows = "".join(f'<tr><td>{escape(k)}</td><td class="n">{v}</td></tr>' for k, v in reasons)
            header = "<h3>Last run: dropped, turned away, errors</h3><table><tr><th>why</th><th>pages</th></tr>"
            out.append(f"{header}{rows}</table>")
    articles = _latest(conn, site)
    if articles:
        sizes = _cluster_sizes(conn, [a["cluster"] for a in articles if a.get("cluster")])
        rows = "".join(
            f"<tr><td>{escape((a['published'] or '')[:16])}</td><td>{_safe_link(a['url'], a['title'])}</td>"
            f'<td>{escape(a["source"] or "")}</td><td class="n">{a["word_count"]}</td>'
            f'<td class="n">{sizes.get(a.get("cluster") or "", 1)}</td></tr>'
            for a in articles
        )
        out.append(
            "<h3>Latest articles</h3><table><tr><th>published</th><th>title</th><th>source</th>"
            f'<th class="n">words</th><th class="n">copies</th></tr>{rows}</table>'
        )
    out.append("</section>")
    return "".join(out)


def build(conn: Any, generated: str | None = None) -> str:
    """The report's HTML for the store on ``conn``."""
    runs = _runs(conn)
    sites = sorted(set(runs) | {r[0] for r in conn.execute("SELECT DISTINCT site FROM articles")})
    total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    alarms = [(site, r[-1]["alarm"]) for site, r in runs.items() if r and r[-1].get("alarm")]
    summary_rows = "".join(_summary_row(s, runs.get(s) or []) for s in sites)
    alarm_text = (
        "".join(f'<li class="alarm">{escape(site)}: {escape(text)}</li>' for site, text in alarms)
        if alarms
        else '<li class="ok">no alarm in any site\'s last run</li>'
    )
    body = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>newsclean: site health</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>newsclean: site health</h1>",
        f'<p class="meta">Generated {escape(generated or now_iso())}; {total:,} articles stored; '
        f"{len(sites)} sites.</p>",
        f"<h2>Last runs' alarms</h2><ul>{alarm_text}</ul>",
        '<h2>Sites</h2><table><tr><th>site</th><th class="n">articles, last run</th>'
        '<th class="n">dropped</th><th class="n">avg words</th><th class="n">rules missed</th><th>status</th></tr>'
        f"{summary_rows}</table>",
    ]
    body += [_site_section(conn, site, runs.get(site, [])) for site in sites]
    body.append("</body></html>\n")
    return "".join(body)


def _summary_row(site: str, runs: list[dict[str, Any]]) -> str:
    cells = ["", "", "", ""]
    if runs:
        last = runs[-1]
        cells = [str(last["articles"]), f"{dropped_share(last):.0%}", f"{last['avg_words']:.0f}"]
        cells.append(f"{rules_missed_share(last):.0%}")
    numbers = "".join(f'<td class="n">{c}</td>' for c in cells)
    return f'<tr><td><a href="#site-{escape(site)}">{escape(site)}</a></td>{numbers}<td>{_status(runs)}</td></tr>'


def _status(runs: list[dict[str, Any]] | None) -> str:
    if not runs:
        return '<span class="meta">no run recorded</span>'
    alarm = runs[-1].get("alarm")
    return f'<span class="alarm">{escape(alarm)}</span>' if alarm else '<span class="ok">ok</span>'
