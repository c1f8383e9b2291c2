"""The breakage alarm: a run compared with its spider's earlier runs. Plain functions on run records.

A site that changed its layout shows up as a run that found no article, whose site rules missed the
body on far more pages than they usually do, or whose share of dropped pages or average text length
moved far from its history. A site that is down shows up as a run whose every request failed.
"""

from __future__ import annotations

from statistics import mean, pstdev
from typing import TYPE_CHECKING, Any

from newsclean import stats

if TYPE_CHECKING:
    from newsclean import store

# A run is judged against at most this many earlier finished runs of its spider.
HISTORY_RUNS = 30
# A run needs this many article pages (or articles) for its shares and averages to mean anything,
MIN_PAGES = 5
# and a spider this many such runs before its history is a baseline.
MIN_HISTORY = 3
# The share of dropped pages may move this far (absolute) from its mean, or 3 standard deviations.
DROP_SHARE_TOLERANCE = 0.25
# The average text length may fall to half or grow to twice its usual value.
LENGTH_RATIO = 2.0


def paywalled(run: dict[str, Any]) -> int:
    """The run's article pages that were paywall teasers (a prompt only, or a free part too short)."""
    return sum(n for reason, n in run["dropped"].items() if reason in stats.PAYWALL_REASONS)


# Why a site was paused during a run (newsclean/crawl/politeness.py), by its ``blocked/<why>`` count.
BLOCKS = {
    "challenge": "a challenge page (bot protection) answered instead of the page",
    "status_403": "the site answered 403 to NEWSCLEAN_BLOCK_STREAK requests in a row",
    "status_429": "the site answered 429 to NEWSCLEAN_BLOCK_STREAK requests in a row",
}


def obstacle(run: dict[str, Any]) -> str | None:
    """Why the site kept the run out, when it did: ``blocked: ...`` (the site was paused because it
    kept blocking) or ``robots.txt unreachable`` (no page allowed); None for a run the site let in.
    Such a run says nothing of the site's layout."""
    counts = run.get("counts") or {}
    whys = [k.removeprefix("blocked/") for k in sorted(counts) if k.startswith("blocked/") and counts[k]]
    if whys:
        return "blocked: " + "; ".join(BLOCKS.get(w, w) for w in whys)
    if counts.get("robots/unreachable_refused") and not run.get("articles"):
        return "robots.txt unreachable (5xx, 429, timeout or network error): no page requested, as RFC 9309 asks"
    return None


def dropped_share(run: dict[str, Any]) -> float:
    """Share of the run's article pages that did not become a stored article. Paywall teasers are
    left out: how many of a site's pages are for subscribers varies with its news, not its layout."""
    pages = run["article_pages"] - paywalled(run)
    return (sum(run["dropped"].values()) - paywalled(run)) / pages if pages > 0 else 0.0


def rules_missed_share(run: dict[str, Any]) -> float:
    """Share of the run's article pages whose body the site's rules missed (the generic path gave it)."""
    return (run.get("rules_missed") or 0) / run["article_pages"] if run["article_pages"] else 0.0


def outage(run: dict[str, Any]) -> str:
    """Why ``run`` looks like a site that was down: every request it made failed (no page answered,
    not even with a 304); empty otherwise."""
    errors = run.get("errors") or {}
    failed = sum(errors.values())
    answered = run["article_pages"] or run["links"] or run["not_modified"] or run["skipped"]
    counts = run.get("counts") or {}
    answered = answered or any(counts.get(f"pages/{kind}") for kind in ("feed", "sitemap", "listing"))
    if not failed or answered:
        return ""
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(errors.items()))
    return f"outage: every request failed ({kinds})"


def alarms(latest: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    """Why ``latest`` looks like a broken site, judged against ``history`` (earlier finished runs)."""
    why = obstacle(latest)
    if why:
        return [why]  # not a layout alarm
    history = [r for r in history if not obstacle(r)]
    reasons = []
    teasers = paywalled(latest)
    if latest["article_pages"] and teasers >= latest["article_pages"] and not latest["new"] + latest["updated"]:
        # Not a layout change: the site put its articles behind a paywall (or this run met only those).
        # The shares and lengths below mean nothing in such a run.
        return [f"paywall: all {teasers} article pages fetched were paywall teasers, nothing stored"]
    down = outage(latest)
    if down:
        reasons.append(down)
    elif latest["article_pages"] and not latest["articles"]:
        reasons.append(f"no article found in {latest['article_pages']} article pages fetched")
    elif not (latest["links"] or latest["not_modified"] or latest["skipped"]):
        reasons.append("no article links found in its feeds, sitemaps or listing pages")

    past = [r for r in history if r["article_pages"] >= MIN_PAGES]
    if latest["article_pages"] >= MIN_PAGES and len(past) >= MIN_HISTORY:
        shares = [dropped_share(r) for r in past]
        share, usual = dropped_share(latest), mean(shares)
        if abs(share - usual) > max(DROP_SHARE_TOLERANCE, 3 * pstdev(shares)):
            reasons.append(f"dropped {share:.0%} of article pages, usually {usual:.0%}")
        shares = [rules_missed_share(r) for r in past]
        share, usual = rules_missed_share(latest), mean(shares)
        if share - usual > max(DROP_SHARE_TOLERANCE, 3 * pstdev(shares)):
            reasons.append(f"site rules missed the body of {share:.0%} of article pages, usually {usual:.0%}")

    past = [r for r in history if r["articles"] >= MIN_PAGES]
    if latest["articles"] >= MIN_PAGES and len(past) >= MIN_HISTORY:
        usual = mean(r["avg_words"] for r in past)
        if usual and not 1 / LENGTH_RATIO <= latest["avg_words"] / usual <= LENGTH_RATIO:
            reasons.append(f"average text length {latest['avg_words']:.0f} words, usually {usual:.0f}")
    return reasons


def check_latest(opened: store.Store, spider: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The spider's latest finished run in the store (either kind) and its alarms (``None, []`` if it
    has none)."""
    finished = [r for r in opened.runs(spider, limit=HISTORY_RUNS + 1) if r["end"]]
    if not finished:
        return None, []
    return finished[0], alarms(finished[0], finished[1:])
