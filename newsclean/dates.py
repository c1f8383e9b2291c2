"""Dates: the one place where a date as a page, a feed or the store writes it is parsed.

Extraction turns a page's raw date into ISO 8601 (:func:`iso_date`); the crawl and the store compare
moments (:func:`parse_time`, :func:`now_iso`). Nothing here imports Scrapy or extraction.

:func:`now` is the one clock of newsclean: every moment it stores (``fetched_at``, a run's start and
end, a revision's ``replaced_at``, validators' ``saved_at``) and every freshness decision reads it. With
``NEWSCLEAN_NOW`` set in the environment (an ISO 8601 moment), the clock starts at that moment when the
process first reads it and runs at real speed from there: a test simulates days of scheduled runs in
minutes. Timers for timeouts and delays stay on the real monotonic clock.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from dateutil import parser as dateparser

NOW_VARIABLE = "NEWSCLEAN_NOW"
_clock: tuple[str, datetime, float] | None = None  # (NEWSCLEAN_NOW, its moment, monotonic time first read)

# No date a page states is longer (``Published: Monday, 27 December 2024 at 10:30 a.m. EST``).
MAX_DATE_CHARS = 120


def iso_date(raw: str) -> str:
    """``raw`` as ISO 8601 (date alone when no time is given); empty when it is not a date.

    Never raises: impossible values (month 13, an offset of ``+99:00``, year 10000, text longer
    than :data:`MAX_DATE_CHARS`) give "".
    """
    raw = raw.strip()
    if not raw or len(raw) > MAX_DATE_CHARS:
        return ""
    try:
        return _iso_date(raw)
    except (ValueError, OverflowError, TypeError, IndexError, AttributeError):
        return ""


def _iso_date(raw: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return date.fromisoformat(raw).isoformat()
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    parsed = dateparser.parse(raw)
    has_time = bool(re.search(r"\d{1,2}:\d{2}", raw))
    return parsed.isoformat() if has_time else parsed.date().isoformat()


def parse_time(raw: str) -> datetime | None:
    """``raw`` (ISO 8601, RFC 2822, ...) as an aware UTC datetime; None when it is not a date."""
    iso = iso_date(raw or "")
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# A moment written without a time zone is local time somewhere from UTC-12:00 to UTC+14:00: the
# moment it means may be up to 12 hours after the same figures read as UTC.
NAIVE_LATEST = timedelta(hours=12)


def has_zone(raw: str) -> bool:
    """True when ``raw`` is a moment that says its time zone (``...Z``, ``+09:00``, ``GMT``)."""
    iso = iso_date(raw or "")
    if "T" not in iso:
        return False
    return datetime.fromisoformat(iso).tzinfo is not None


def announces_change(announced: list[str], fetched: datetime, own: list[str]) -> bool:
    """Whether the dates a feed or sitemap gives a page (``announced``: published, updated) say it
    changed since its stored copy was fetched at ``fetched`` (our clock), whose page carried the dates
    ``own`` (the site's clock).

    The feed's latest date must be after ``fetched`` (for a date without a time zone: possibly, at
    any time zone, so that no edit is missed) and, when the stored page carried dates written alike
    (both with a time zone, or both without), after those too: a site whose clock runs hours ahead,
    or that writes local time without saying so, dates its pages as it dates its feed, so its feed
    date is compared with its own dates, not with ours.
    """
    dated = [(when, raw) for raw in announced if (when := parse_time(raw)) is not None]
    if not dated:
        return False
    latest, raw = max(dated, key=lambda pair: pair[0])
    zoned = has_zone(raw)
    if latest + (timedelta(0) if zoned else NAIVE_LATEST) <= fetched:
        return False
    alike = [when for r in own if (when := parse_time(r)) is not None and has_zone(r) == zoned]
    return not alike or latest > max(alike)


def set_clock(moment: str) -> None:
    """Start this process's clock (and its child processes') at ``moment`` (ISO 8601) now; an empty
    ``moment`` leaves the clock as it is. ``ValueError`` (one line) when it is not a moment."""
    if moment.strip():
        os.environ[NOW_VARIABLE] = moment.strip()
        now()


def now() -> datetime:
    """The current moment, aware UTC: the real one, or ``NEWSCLEAN_NOW`` plus the time this process has
    run since it first read it. ``ValueError`` (one line) when ``NEWSCLEAN_NOW`` is not a moment."""
    global _clock
    raw = os.environ.get(NOW_VARIABLE, "").strip()
    if not raw:
        return datetime.now(UTC)
    if _clock is None or _clock[0] != raw:
        start = parse_time(raw) if re.match(r"\d{4}-\d{2}-\d{2}", raw) else None
        if start is None:
            raise ValueError(f"{NOW_VARIABLE} is not an ISO 8601 moment: {raw!r}")
        _clock = (raw, start, time.monotonic())
    return _clock[1] + timedelta(seconds=time.monotonic() - _clock[2])


def now_iso() -> str:
    """The current moment (:func:`now`), ISO 8601 UTC to the second (``2026-11-24T09:00:00+00:00``)."""
    return now().isoformat(timespec="seconds")
