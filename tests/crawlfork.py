"""Many ``scrapy crawl`` processes, quickly: a process that has imported Scrapy and newsclean once forks
a new process for each crawl, which runs ``scrapy crawl`` as the command line does
(``scrapy.cmdline.execute``), in its own session, with its own environment, log file and exit status.

A crawl is as real as one started from a shell (its own process, reactor, store connections, lock,
worker pool; killable with SIGKILL), less the second or more of imports that each new interpreter
pays, and the language profiles it loads on its first page (with the interpreter, about 3 s a crawl
on a loaded 2-core machine): the soak runs 40 crawls.

Protocol, one JSON object a line: the test writes ``{"argv": [...], "env": {...}, "log": path}``; this
process answers ``{"pid": N}`` once the crawl is forked, then ``{"rc": N, "maxrss_kb": N}`` when it
ended (``rc`` as ``subprocess`` gives it: negative for a signal; ``maxrss_kb``: the peak resident
memory of the crawl process, or of one of its children if higher).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _serve() -> None:
    # What every crawl imports, once (no reactor is installed by importing).
    import scrapy.cmdline
    import scrapy.crawler  # noqa: F401

    import newsclean.commands.crawl
    import newsclean.crawl.extractor
    import newsclean.crawl.sites
    import newsclean.extraction
    import newsclean.store  # noqa: F401
    from newsclean.extraction import extract

    # And what a new interpreter pays on its first page: the language profiles (1.3 s), regexes.
    words = " ".join(["the council said the budget would fund schools and roads across the region"] * 6)
    extract(f"<html><body><article><h1>Warm</h1><p>{words}</p></article></body></html>", "https://warm.example/a")

    for line in sys.stdin:
        order = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the crawl
            os.setsid()
            os.environ.clear()
            os.environ.update(order["env"])
            log = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(0)
            from scrapy.cmdline import execute

            code = 0
            try:
                execute(order["argv"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status, usage = os.wait4(pid, 0)
        print(json.dumps({"rc": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss}), flush=True)


class Forker:
    """The forking process, seen from the test."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def start(self, argv: list[str], env: dict[str, str], log: Path) -> int:
        """Fork a crawl; its pid."""
        stdin, stdout = self._pipes()
        stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n")
        stdin.flush()
        return int(json.loads(stdout.readline())["pid"])

    def wait(self) -> dict[str, Any]:
        """Wait for the crawl started last: ``{"rc": ..., "maxrss_kb": ...}``."""
        line = self._pipes()[1].readline()
        assert line, "the forking process died"
        return dict(json.loads(line))

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout


@contextmanager
def forker(cwd: Path, env: dict[str, str]) -> Iterator[Forker]:
    """A forking process for crawls run in ``cwd``, with ``env`` (its ``PYTHONPATH`` included) for
    its imports."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.crawlfork"], cwd=cwd, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield Forker(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


if __name__ == "__main__":
    _serve()
