"""The settable clock (NEWSCLEAN_NOW), the rule that reads a feed's dates against a stored page's, and
the alarms the soak relies on (outage, site rules missed), in process."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsclean import dates
from newsclean.store.health import alarms

from .helpers import ROOT

FETCHED = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)


def test_the_clock_starts_at_newsclean_now_and_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLEAN_NOW", "2027-03-05T06:00:00Z")
    first = dates.now()
    assert datetime(2027, 3, 5, 6, 0, tzinfo=UTC) <= first < datetime(2027, 3, 5, 6, 1, tzinfo=UTC)
    time.sleep(0.05)
    assert dates.now() > first  # it runs
    assert dates.now_iso().startswith("2027-03-05T06:0")
    monkeypatch.setenv("NEWSCLEAN_NOW", "2027-04-01T00:00:00+09:00")
    assert dates.now_iso().startswith("2027-03-31T15:00")  # a new moment restarts it, in UTC
    monkeypatch.delenv("NEWSCLEAN_NOW")
    assert abs(dates.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_bad_newsclean_now_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLEAN_NOW", "next tuesday")
    with pytest.raises(ValueError, match="NEWSCLEAN_NOW is not an ISO 8601 moment: 'next tuesday'"):
        dates.now()


@pytest.mark.crawl
def test_scrapy_crawl_refuses_a_bad_newsclean_now(run_env: dict[str, str]) -> None:
    proc = subprocess.run(["scrapy", "crawl", "trtworld", "-s", "NEWSCLEAN_NOW=soon"], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "scrapy crawl: NEWSCLEAN_NOW is not an ISO 8601 moment: 'soon'"


@pytest.mark.parametrize(
    ("announced", "own", "changed"),
    [
        (["2027-03-01T20:00:00Z"], [], True),  # after the fetch, the page carried no date
        (["2027-03-01T17:00:00Z"], ["2027-03-01T16:00:00+00:00"], False),  # before the fetch
        # The site's clock runs 9 hours ahead: the page it served said 22:00 too; no change since.
        (["2027-03-01T22:00:00Z"], ["2027-03-01T22:00:00+00:00"], False),
        (["2027-03-02T19:00:00Z"], ["2027-03-01T22:00:00+00:00"], True),  # edited the next day
        # Local time without a zone (UTC+09:00): compared with the page's own dates, written alike.
        (["2027-03-02T03:00:00"], ["2027-03-02T03:00:00"], False),
        (["2027-03-02T19:03:00"], ["2027-03-02T03:00:00"], True),
        # Without a zone and no date of the page written alike: a change if it may be after the fetch.
        (["2027-03-02T05:00:00"], ["2027-03-01T16:00:00+00:00"], True),
        (["2027-03-01T05:00:00"], ["2027-02-28T16:00:00+00:00"], False),
        (["not a date"], [], False),
    ],
)
def test_a_feed_date_is_read_against_the_stored_page(announced: list[str], own: list[str], changed: bool) -> None:
    assert dates.announces_change(announced, FETCHED, own) is changed


def _run(**kw: Any) -> dict[str, Any]:
    run = {"article_pages": 6, "articles": 6, "dropped": {}, "avg_words": 180, "links": 30, "not_modified": 0,
           "skipped": 24, "errors": {}, "rules_missed": 0, "counts": {"pages/feed": 1}}  # fmt: skip
    return {**run, **kw}


def test_a_run_whose_every_request_failed_is_an_outage() -> None:
    down = _run(article_pages=0, articles=0, links=0, skipped=0, errors={"http_503": 1}, counts={})
    assert alarms(down, [_run()] * 5) == ["outage: every request failed (http_503: 1)"]
    assert alarms({**down, "not_modified": 1}, [_run()] * 5) == []  # the feed answered 304: the site is up


def test_site_rules_missing_the_body_far_more_than_usual() -> None:
    assert alarms(_run(rules_missed=6), [_run()] * 5) == [
        "site rules missed the body of 100% of article pages, usually 0%"
    ]
    assert alarms(_run(rules_missed=1), [_run()] * 5) == []
    assert alarms(_run(rules_missed=6), [_run()] * 2) == []  # too little history


def test_newsclean_commands_refuse_a_bad_newsclean_now(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsclean.cli import main

    monkeypatch.setenv("NEWSCLEAN_NOW", "2027-13-45")
    assert main(["fields"]) == 2
    assert capsys.readouterr().err == "newsclean: NEWSCLEAN_NOW is not an ISO 8601 moment: '2027-13-45'\n"
