"""Dates: the one place where a date as a page, a feed or the store writes it is parsed.

Extraction turns a page's raw date into ISO 8601 (:func:`iso_date`); the crawl and the store compare
moments (:func:`parse_time`, :func:`now_iso`). Nothing here imports Scrapy or extraction.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as dateparser

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


def now_iso() -> str:
    """The current moment, ISO 8601 UTC to the second (``2026-11-24T09:00:00+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
