"""Extraction in worker processes, so that a crawl extracts on every core and keeps downloading.

Scrapy runs callbacks on one thread: extraction done there (about 15 ms a page) caps a crawl at one
core and stalls the reactor. :class:`ExtractionPool` runs :func:`newsclean.extraction.extract` in
``size`` worker processes instead; the spider awaits :meth:`ExtractionPool.extract`, and the reactor
downloads meanwhile.

- Each worker is a ``python -m newsclean.workers`` subprocess that imports only the extraction code
  (not Scrapy, not the crawl's ``__main__``) and talks over its stdin/stdout: one length-prefixed
  pickle in (HTML, URL, site rules), one out (the :class:`~newsclean.extraction.Extraction`).
- A worker holds one page at a time, so a page that kills its worker (a segfault in a C library,
  ``os._exit``) or hangs it past ``timeout`` costs that page alone: the page's ``extract`` raises
  :class:`WorkerCrashError` or :class:`WorkerTimeoutError`, the worker is killed if need be and replaced,
  and the other pages go on. (``concurrent.futures.ProcessPoolExecutor`` breaks for good when one
  worker dies and cannot stop one hung task.)
- At most ``max_pending`` pages are in the pool (queued or being extracted); callers beyond that
  wait, which holds back Scrapy's callbacks and so its downloads: memory stays flat.
- :meth:`ExtractionPool.close` ends the workers (end of input, then SIGKILL after a grace period).
  Workers ignore SIGINT (Ctrl-C reaches the whole process group; the crawl decides when to stop),
  die with the crawl process on Linux (``PR_SET_PDEATHSIG``), and exit when their input closes.

:class:`Extractor` is what the spider holds: inline extraction when ``NEWSCLEAN_WORKERS`` is 0, the
pool otherwise, started when the spider opens and closed when it closes (or the engine stops).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import logging
import os
import pickle
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Self

from newsclean.extraction import Extraction, SiteRules, extract

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">Q")
# After close(): how long a worker may take to finish its page and exit before it is killed.
CLOSE_GRACE = 2.0


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerError(Exception):
    """A page the pool could not extract; ``kind`` names it in the crawl stats."""

    kind = "worker_error"


class WorkerCrashError(WorkerError):
    """The worker extracting the page died (segfault, ``os._exit``, killed)."""

    kind = "worker_crash"


class WorkerTimeoutError(WorkerError):
    """The page took longer than the pool's timeout; its worker was killed."""

    kind = "worker_timeout"


class PoolClosedError(WorkerError):
    """The pool was closed before the page was extracted."""

    kind = "worker_pool_closed"


@dataclass
class _Job:
    payload: tuple[str | bytes, str | None, SiteRules | None]
    future: asyncio.Future[Extraction]
    loop: asyncio.AbstractEventLoop

    def deliver(self, outcome: Extraction | WorkerError) -> None:
        def settle() -> None:
            if self.future.done():
                return
            if isinstance(outcome, WorkerError):
                self.future.set_exception(outcome)
            else:
                self.future.set_result(outcome)

        # RuntimeError: the event loop is already closed, nobody waits for this page any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(settle)


class _Worker:
    """One worker process and the thread in this process that feeds it, one page at a time."""

    def __init__(self, pool: ExtractionPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._run, name=f"newsclean-worker-{index}", daemon=True)

    def spawn(self) -> None:
        with self.lock:
            if self.pool.closed:
                return
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "newsclean.workers", *self.pool.worker_args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
            self.pool.started_pids.append(self.proc.pid)

    def kill(self) -> None:
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()

    def _run(self) -> None:
        while True:
            job = self.pool.jobs.get()
            if job is None:
                self._stop()
                return
            try:
                outcome: Extraction | WorkerError = self._extract(job)
            except WorkerError as exc:
                outcome = exc
            job.deliver(outcome)

    def _extract(self, job: _Job) -> Extraction:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            self.spawn()
            proc = self.proc
        if proc is None:
            raise PoolClosedError("pool closed")
        assert proc.stdin is not None
        assert proc.stdout is not None
        data = pickle.dumps(job.payload, pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + self.pool.timeout
        try:
            _write_all(proc.stdin, _HEADER.pack(len(data)) + data)
            (size,) = _HEADER.unpack(_read_exact(proc.stdout, _HEADER.size, deadline))
            result: Extraction = pickle.loads(_read_exact(proc.stdout, size, deadline))
            return result
        except TimeoutError:
            self.kill()
            proc.wait()
            self.spawn()
            raise WorkerTimeoutError(f"extraction took longer than {self.pool.timeout:g} s; worker killed") from None
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            code = proc.wait()
            self.spawn()
            if self.pool.closed:
                raise PoolClosedError("pool closed") from None
            raise WorkerCrashError(f"worker exited with status {code}") from None

    def _stop(self) -> None:
        with self.lock:
            proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # end of input: the worker exits
        try:
            proc.wait(CLOSE_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _write_all(pipe: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = pipe.write(view)
        view = view[written or 0 :]


def _read_exact(pipe: BinaryIO, size: int, deadline: float) -> bytes:
    """``size`` bytes from ``pipe``; TimeoutError past ``deadline``, EOFError if the worker is gone."""
    fd = pipe.fileno()
    chunks: list[bytes] = []
    while size:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class ExtractionPool:
    """``size`` worker processes running :func:`newsclean.extraction.extract`; see the module doc.

    ``faults`` is for tests only: ``{"crash": regex, "hang": regex}`` makes a worker kill itself with
    SIGSEGV, or sleep for good, on a page whose URL matches.
    """

    def __init__(
        self, size: int, timeout: float = 30.0, max_pending: int = 0, faults: Mapping[str, str] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("an extraction pool needs at least one worker")
        self.size = size
        self.timeout = timeout
        self.max_pending = max_pending or 4 * size
        self.worker_args = [f"--{kind}={pattern}" for kind, pattern in sorted((faults or {}).items()) if pattern]
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.closed = False
        self.started_pids: list[int] = []
        self._slots = asyncio.Semaphore(self.max_pending)
        self._workers = [_Worker(self, i) for i in range(size)]
        self._started = False

    def start(self) -> Self:
        """Start the workers (each imports the extraction code, about a second, in parallel)."""
        if not self._started:
            self._started = True
            for worker in self._workers:
                worker.spawn()
                worker.thread.start()
            atexit.register(self.close)
        return self

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers if w.proc is not None and w.proc.poll() is None]

    async def extract(self, html: str | bytes, url: str | None = None, rules: SiteRules | None = None) -> Extraction:
        """:func:`newsclean.extraction.extract` in a worker; waits while ``max_pending`` pages are in.

        Raises :class:`WorkerCrashError`, :class:`WorkerTimeoutError` or :class:`PoolClosedError` for this page.
        """
        async with self._slots:
            if self.closed:
                raise PoolClosedError("pool closed")
            self.start()
            loop = asyncio.get_running_loop()
            job = _Job((html, url, rules), loop.create_future(), loop)
            self.jobs.put(job)
            return await job.future

    def close(self) -> None:
        """Fail the pages still queued, let each worker finish its page, then end every worker."""
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.deliver(PoolClosedError("pool closed"))
        if not self._started:
            return
        for _ in self._workers:
            self.jobs.put(None)
        deadline = time.monotonic() + CLOSE_GRACE
        for worker in self._workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self._workers:  # still busy (a hung page): killed, its page fails as closed
            worker.kill()
        for worker in self._workers:
            worker.thread.join(CLOSE_GRACE)


class Extractor:
    """What a spider extracts with: inline, or in an :class:`ExtractionPool` tied to the crawl."""

    def __init__(self, pool: ExtractionPool | None = None) -> None:
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        from scrapy import signals

        size = crawler.settings.getint("NEWSCLEAN_WORKERS", default_workers())
        if size <= 0:
            return cls()
        pool = ExtractionPool(
            size,
            timeout=crawler.settings.getfloat("NEWSCLEAN_WORKER_TIMEOUT", 30.0),
            max_pending=crawler.settings.getint("NEWSCLEAN_WORKER_QUEUE", 0),
            faults=crawler.settings.getdict("NEWSCLEAN_WORKER_FAULTS"),
        )
        extractor = cls(pool)
        crawler.signals.connect(extractor.open, signal=signals.spider_opened)
        crawler.signals.connect(extractor.close, signal=signals.spider_closed)
        crawler.signals.connect(extractor.close, signal=signals.engine_stopped)
        return extractor

    def open(self) -> None:
        if self.pool is not None:
            self.pool.start()
            logger.info("extraction pool: %d workers (pids %s)", self.pool.size, " ".join(map(str, self.pool.pids)))

    def close(self) -> None:
        if self.pool is not None and not self.pool.closed:
            self.pool.close()
            logger.info("extraction pool closed")

    async def extract(self, html: str | bytes, url: str | None = None, rules: SiteRules | None = None) -> Extraction:
        """The page's :class:`~newsclean.extraction.Extraction`; may raise :class:`WorkerError`."""
        if self.pool is None:
            return extract(html, url, rules)
        return await self.pool.extract(html, url, rules)


# The worker process -------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: the kernel sends this process SIGKILL when the process that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _fault(url: str | None, faults: Mapping[str, re.Pattern[str]]) -> None:
    """Test hook (``NEWSCLEAN_WORKER_FAULTS``): crash or hang on the URLs the test names."""
    if url and (pattern := faults.get("crash")) and pattern.search(url):
        os.kill(os.getpid(), signal.SIGSEGV)
    if url and (pattern := faults.get("hang")) and pattern.search(url):
        while True:
            time.sleep(3600)


def worker_main(argv: list[str]) -> int:
    """Read (html, url, rules) pickles from stdin, write Extraction pickles to stdout, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() == 1:  # the crawl died before the line above ran
        return 0
    faults = {}
    for arg in argv:
        kind, _, pattern = arg.removeprefix("--").partition("=")
        faults[kind] = re.compile(pattern)
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s [worker {os.getpid()}] %(levelname)s: %(message)s")
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the results
    while True:
        header = inp.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return 0
        html, url, rules = pickle.loads(inp.read(_HEADER.unpack(header)[0]))
        _fault(url, faults)
        result = extract(html, url, rules)
        result.removed = []  # what each rule removed is for `newsclean try`, not for the crawl
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
