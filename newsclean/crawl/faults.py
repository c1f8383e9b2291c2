"""Test hook of the extraction workers (``NEWSCLEAN_WORKER_FAULTS``): crash, hang or dawdle on the
pages whose URL a test names, so that the tests can show what the pool does when a page kills or
hangs its worker. Off unless a test sets it."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Mapping

# How long a page the "slow" fault names takes.
SLOW_SECONDS = 3.0


def parse(argv: list[str]) -> dict[str, re.Pattern[str]]:
    """``--crash=REGEX --hang=REGEX --slow=REGEX`` (as the pool passes them) as compiled patterns."""
    faults = {}
    for arg in argv:
        kind, _, pattern = arg.removeprefix("--").partition("=")
        faults[kind] = re.compile(pattern)
    return faults


def as_args(faults: Mapping[str, str] | None) -> list[str]:
    """The worker arguments for ``faults`` (``{"crash": regex, ...}``)."""
    return [f"--{kind}={pattern}" for kind, pattern in sorted((faults or {}).items()) if pattern]


def inject(url: str | None, faults: Mapping[str, re.Pattern[str]]) -> None:
    """Crash (SIGSEGV), hang for good, or sleep ``SLOW_SECONDS`` when ``url`` matches that fault."""
    if not url or not faults:
        return
    if (pattern := faults.get("crash")) and pattern.search(url):
        os.kill(os.getpid(), signal.SIGSEGV)
    if (pattern := faults.get("hang")) and pattern.search(url):
        while True:
            time.sleep(3600)
    if (pattern := faults.get("slow")) and pattern.search(url):
        time.sleep(SLOW_SECONDS)
