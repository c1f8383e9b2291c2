"""Every ``NEWSCLEAN_*`` setting: its name, default, type and meaning, read in one place.

A component reads a setting with ``config.MIN_WORDS.get(settings)``, where ``settings`` is Scrapy's
settings object or any mapping (the CLI's, a test's). A setting the settings do not hold gives its
default; a value given on the command line as text (``-s NEWSCLEAN_MIN_WORDS=50``) is converted to
the setting's type. Nothing here imports Scrapy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def to_bool(value: Any) -> bool:
    """``True``, ``1``, ``"1"``, ``"true"``, ``"yes"``, ``"on"`` (any case) are true; ``ValueError`` for nonsense."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"not a true/false value: {value!r}")
    return bool(value)


def to_list(value: Any) -> list[str]:
    """A list of strings: a list as it is, text split at commas."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or ()]


def to_dict(value: Any) -> dict[str, Any]:
    """A dict: a mapping as it is, text read as JSON."""
    if isinstance(value, str):
        return dict(json.loads(value)) if value.strip() else {}
    return dict(value or {})


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One ``NEWSCLEAN_*`` setting."""

    name: str
    default: T
    convert: Callable[[Any], T]
    doc: str

    def get(self, settings: Any) -> T:
        """This setting's value in ``settings`` (Scrapy settings or a mapping), else its default."""
        value = settings.get(self.name, None) if settings is not None else None
        return self.default if value is None else self.convert(value)


ALL: list[Setting[Any]] = []


def _setting(name: str, default: T, convert: Callable[[Any], T], doc: str) -> Setting[T]:
    setting = Setting(name, default, convert, doc)
    ALL.append(setting)
    return setting


DB = _setting(
    "NEWSCLEAN_DB",
    "data/newsclean.sqlite",
    str,
    "the store: an SQLite file, or a PostgreSQL database as `postgresql://user@host:port/db`",
)
SQLITE_ENABLED = _setting("NEWSCLEAN_SQLITE_ENABLED", True, to_bool, "store articles (in `NEWSCLEAN_DB`, either kind)")
VALIDATION_ENABLED = _setting(
    "NEWSCLEAN_VALIDATION_ENABLED", True, to_bool, "drop items with no text, too little text or no title"
)
MIN_WORDS = _setting("NEWSCLEAN_MIN_WORDS", 30, int, "fewer words in `text`: dropped as `too_short`")
PAYWALL_MIN_WORDS = _setting(
    "NEWSCLEAN_PAYWALL_MIN_WORDS",
    80,
    int,
    "fewer words before the paywall in a `truncated` article: a teaser, dropped as `paywall_teaser`",
)
REQUIRE_TITLE = _setting("NEWSCLEAN_REQUIRE_TITLE", True, to_bool, "no title: dropped as `missing_title`")
LANGUAGE_ENABLED = _setting("NEWSCLEAN_LANGUAGE_ENABLED", True, to_bool, "apply the language allow-list")
LANGUAGES: Setting[list[str]] = _setting(
    "NEWSCLEAN_LANGUAGES", [], to_list, "ISO 639-1 codes to keep, e.g. `-s NEWSCLEAN_LANGUAGES=en,ru`"
)
DEDUPE_ENABLED = _setting(
    "NEWSCLEAN_DEDUPE_ENABLED", True, to_bool, "drop a second item with the same canonical URL or the same text"
)
REFRESH = _setting(
    "NEWSCLEAN_REFRESH", False, to_bool, "fetch every article again, stored or not (also `-a refresh=1`)"
)
CONDITIONAL_ENABLED = _setting(
    "NEWSCLEAN_CONDITIONAL_ENABLED", True, to_bool, "conditional requests for feeds, sitemaps and listing pages"
)
LOCK_ENABLED = _setting(
    "NEWSCLEAN_LOCK_ENABLED", True, to_bool, "refuse a second run of a spider against the same store"
)
RUNS_ENABLED = _setting(
    "NEWSCLEAN_RUNS_ENABLED", True, to_bool, "record each run in `runs` and raise the breakage alarm"
)
CONTACT = _setting("NEWSCLEAN_CONTACT", "", str, "a URL or e-mail address added to the User-Agent")
MIRROR = _setting(
    "NEWSCLEAN_MIRROR",
    "",
    str,
    "fetch every URL from this local mirror (`http://127.0.0.1:PORT`), as the demo and tests do",
)
WORKERS = _setting(
    "NEWSCLEAN_WORKERS",
    default_workers(),
    int,
    "extraction worker processes; `0`: extract inline, in the crawl's own process",
)
WORKER_TIMEOUT = _setting(
    "NEWSCLEAN_WORKER_TIMEOUT",
    30.0,
    float,
    "seconds one page may take in a worker, from when the worker starts it; past that the worker is "
    "killed and replaced",
)
WORKER_QUEUE = _setting(
    "NEWSCLEAN_WORKER_QUEUE",
    0,
    int,
    "pages in the pool at most (queued, or in a worker: the one it extracts and the next); more wait, "
    "and so do downloads",
)
WORKER_FAULTS: Setting[dict[str, Any]] = _setting(
    "NEWSCLEAN_WORKER_FAULTS",
    {},
    to_dict,
    'tests only: `{"crash": URL regex, "hang": URL regex, "slow": URL regex}` makes a worker crash, hang '
    "or take a second on those pages",
)
RETRY_AFTER_MAX = _setting(
    "NEWSCLEAN_RETRY_AFTER_MAX",
    120.0,
    float,
    "a site answering 429 or 503 with `Retry-After` gets no request for that long, at most this many "
    "seconds (other sites go on)",
)

MIN_DELAY = _setting(
    "NEWSCLEAN_MIN_DELAY",
    0.0,
    float,
    "seconds between two requests to one site at least, whatever AutoThrottle computes (a site's "
    "`min_delay` and its robots.txt `Crawl-delay` may raise it)",
)
CRAWL_DELAY_MAX = _setting(
    "NEWSCLEAN_CRAWL_DELAY_MAX",
    60.0,
    float,
    "a robots.txt `Crawl-delay` is honoured up to this many seconds (a longer one is capped, and logged)",
)
ROBOTS_RETRY = _setting(
    "NEWSCLEAN_ROBOTS_RETRY",
    300.0,
    float,
    "seconds after which an unreachable robots.txt (5xx, 429, timeout, network error) is fetched again; "
    "until then the site gets no request",
)


def to_tdm_mode(value: Any) -> str:
    """``honour`` or ``record``; ``ValueError`` for anything else."""
    mode = str(value).strip().lower()
    if mode not in ("honour", "record"):
        raise ValueError(f"NEWSCLEAN_TDM must be honour or record, not {value!r}")
    return mode


TDM = _setting(
    "NEWSCLEAN_TDM",
    "honour",
    to_tdm_mode,
    "a page under a TDM reservation (W3C TDMRep: header, `<meta>` or `/.well-known/tdmrep.json`): "
    "`honour`: not stored (counted); `record`: stored, with `tdm-reservation:1` in `signals`",
)
BLOCK_STREAK = _setting(
    "NEWSCLEAN_BLOCK_STREAK",
    5,
    int,
    "this many 403 or 429 answers in a row from a site (or one challenge page) pause it for the rest "
    "of the run; `0`: never",
)

FRONTIER = _setting(
    "NEWSCLEAN_FRONTIER",
    "",
    str,
    "`redis://host:port/db`: take requests from a frontier shared with other processes "
    "(see Running on several machines)",
)
FRONTIER_RUN = _setting(
    "NEWSCLEAN_FRONTIER_RUN",
    "",
    str,
    "the shared crawl's name: the same on every process of one crawl, a new one for each new crawl; "
    "required with `NEWSCLEAN_FRONTIER`",
)
ARCHIVE = _setting(
    "NEWSCLEAN_ARCHIVE",
    "",
    str,
    "folder to keep every downloaded response in, as WARC files (with its request); empty: off",
)
ARCHIVE_MAX_SIZE = _setting(
    "NEWSCLEAN_ARCHIVE_MAX_SIZE", 1 << 30, int, "bytes past which an archive WARC file is closed and the next begun"
)
WARC_WINDOW = _setting(
    "NEWSCLEAN_WARC_WINDOW", 64, int, "`warc` spider: records read ahead and not yet handled, at most"
)
PROGRESS_INTERVAL = _setting(
    "NEWSCLEAN_PROGRESS_INTERVAL", 60.0, float, "`warc` spider: seconds between progress lines in the log"
)
NOW = _setting(
    "NEWSCLEAN_NOW",
    "",
    str,
    "the moment (ISO 8601) a crawl takes as now; its clock runs on from there: simulated days of "
    "scheduled runs in tests. Also read from the environment (for `newsclean` commands too); empty: the real clock",
)
BROWSER = _setting(
    "NEWSCLEAN_BROWSER",
    "",
    str,
    "the Chromium binary that renders the pages of sites declaring `render` (see JavaScript pages); "
    "empty: Debian's `chromium` package's, if installed; `off`: never render",
)
RENDER_PAGES = _setting(
    "NEWSCLEAN_RENDER_PAGES", 2, int, "pages the headless browser renders at once, at most (a renderer process each)"
)

BY_NAME: dict[str, Setting[Any]] = {s.name: s for s in ALL}
