"""Extraction in worker processes, so that a crawl extracts on every core and keeps downloading.

Scrapy runs callbacks on one thread: extraction done there (about 25 ms a page) caps a crawl at one
core and stalls the reactor. :class:`ExtractionPool` runs :func:`newsclean.extraction.extract` in
``size`` worker processes instead; the spider awaits :meth:`ExtractionPool.extract`, and the reactor
downloads meanwhile.

- Each worker is a ``python -m newsclean.crawl.worker`` subprocess (:mod:`newsclean.crawl.worker`)
  that imports only the extraction code (not Scrapy, not the crawl's ``__main__``) and talks over its
  stdin/stdout: one length-prefixed pickle in (the page as fetched, URL, site name, HTTP charset; the
  worker looks the site's rules up itself), one out (the
  :class:`~newsclean.extraction.Extraction`). The page goes as bytes and is decoded in the worker:
  pickling it as text would cost the crawl process a UTF-8 encoding of every page (0.2 ms).
- The pipes are served by the event loop the spider runs on (``add_reader``, non-blocking writes),
  not by threads: no thread waits for the GIL while a worker waits for its next page, and no
  thread wakes the loop for each result.
- A worker extracts one page at a time and has the next one waiting in its pipe (``AHEAD``), so it
  starts that page the moment it sends a result, however busy the crawl process is.
- A page that kills its worker (a segfault in a C library, ``os._exit``) or hangs it past
  ``timeout`` (counted from when the worker starts it; a new worker first says it is ready, an empty
  message, once it has imported the extraction code) costs that page alone: the page's
  ``extract`` raises :class:`WorkerCrashError` or :class:`WorkerTimeoutError`, the worker is killed
  if need be and replaced, and the page that waited in its pipe goes to the new worker.
  (``concurrent.futures.ProcessPoolExecutor`` breaks for good when one worker dies and cannot stop
  one hung task.)
- At most ``max_pending`` pages are in the pool (queued or in a worker); callers beyond that wait,
  which holds back Scrapy's callbacks and so its downloads: memory stays flat.
- :meth:`ExtractionPool.close` ends the workers (end of input, then SIGKILL after a grace period).
  Workers ignore SIGINT (Ctrl-C reaches the whole process group; the crawl decides when to stop),
  die with the crawl process on Linux (``PR_SET_PDEATHSIG``), and exit when their input closes.

:class:`~newsclean.crawl.extractor.Extractor` ties a pool to a crawl. Nothing here imports Scrapy.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import fcntl
import logging
import os
import pickle
import struct
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from newsclean.crawl import faults as faults_module
from newsclean.extraction.result import Extraction

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">Q")
# After close(): how long a worker may take to finish its page and exit before it is killed.
CLOSE_GRACE = 2.0
# Pages in a worker at once: the one it extracts and the next, waiting in its pipe.
AHEAD = 2
# A worker says it is ready (an empty message) once it has imported the extraction code; until then
# its first page has this much more time than ``timeout``, so that a worker started on a busy machine
# is not taken for a hung one.
STARTUP_SECONDS = 30.0
# Linux: a pipe holds 64 KiB, less than most pages; one of PIPE_SIZE takes a page in one write.
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031
_READ_CHUNK = 1 << 20


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
    message: bytes  # header + pickle of (html, url, site name, encoding), kept to send again
    future: asyncio.Future[Extraction]

    def deliver(self, outcome: Extraction | WorkerError) -> None:
        if self.future.done():  # cancelled: nobody waits for this page any more
            return
        # RuntimeError: the event loop is closed; nobody waits for this page any more either.
        with contextlib.suppress(RuntimeError):
            if isinstance(outcome, WorkerError):
                self.future.set_exception(outcome)
            else:
                self.future.set_result(outcome)


def _widen(fd: int) -> None:
    """Grow a pipe's buffer to ``PIPE_SIZE`` where the system allows it (else leave it)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_SIZE)


class _Worker:
    """One worker process and its pipes, driven by the pool's event loop.

    ``jobs`` are the pages sent to it, oldest first: ``jobs[0]`` is the one it extracts.
    """

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool
        self.proc: subprocess.Popen[bytes] | None = None
        self.jobs: collections.deque[_Job] = collections.deque()
        self._out = bytearray()  # bytes sent to the worker's stdin that the pipe did not take yet
        self._in = bytearray()  # bytes read from its stdout, not yet a whole result
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ready = False  # the worker said it has imported what it needs

    # Process ---------------------------------------------------------------------------------------

    def spawn(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsclean.crawl.worker", *self.pool.worker_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        for fd in (self.stdin, self.stdout):
            _widen(fd)
            os.set_blocking(fd, False)
        self.pool.started_pids.append(self.proc.pid)
        self._out.clear()
        self.ready = False
        self._in.clear()
        if self.pool.loop is not None:
            self.attach(self.pool.loop)

    @property
    def stdin(self) -> int:
        assert self.proc is not None
        assert self.proc.stdin is not None
        return self.proc.stdin.fileno()

    @property
    def stdout(self) -> int:
        assert self.proc is not None
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve this worker's results on ``loop``."""
        if self._loop is loop or self.proc is None:
            return
        self._loop = loop
        loop.add_reader(self.stdout, self._on_readable)
        if self._out:
            loop.add_writer(self.stdin, self._on_writable)

    def _detach(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed() and self.proc is not None:
            loop.remove_reader(self.stdout)
            loop.remove_writer(self.stdin)

    def end(self, kill: bool, grace: float = 0.0) -> int:
        """Stop serving the worker and end it: EOF on its input (it finishes the pages it holds,
        then exits), SIGKILL after ``grace`` seconds or at once with ``kill``. What it wrote before
        it exited is kept, read or not. Returns its exit status."""
        self._detach()
        proc, self.proc = self.proc, None
        assert proc is not None
        assert proc.stdin is not None
        assert proc.stdout is not None
        if kill:
            proc.kill()
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            code = proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        with contextlib.suppress(OSError):
            self._in += proc.stdout.read() or b""
        proc.stdout.close()
        return code

    # Pages -----------------------------------------------------------------------------------------

    def send(self, job: _Job) -> None:
        self.jobs.append(job)
        if len(self.jobs) == 1:
            self._start_clock()
        self._write(job.message)

    def _write(self, data: bytes) -> None:
        if not self._out:
            try:
                written = os.write(self.stdin, data)
            except BlockingIOError:
                written = 0
            except OSError:  # the worker is gone: its output says so (EOF), and the page goes again
                return
            if written == len(data):
                return
            data = data[written:]
            if self._loop is not None:
                self._loop.add_writer(self.stdin, self._on_writable)
        self._out += data

    def _on_writable(self) -> None:
        try:
            written = os.write(self.stdin, self._out)
        except BlockingIOError:
            return
        except OSError:
            written = len(self._out)
        del self._out[:written]
        if not self._out and self._loop is not None:
            self._loop.remove_writer(self.stdin)

    def _start_clock(self) -> None:
        """The worker starts ``jobs[0]`` now: it has ``timeout`` seconds."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.jobs and self._loop is not None:
            allowed = self.pool.timeout + (0.0 if self.ready else STARTUP_SECONDS)
            self._timer = self._loop.call_later(allowed, self._on_timeout)

    def _read(self) -> bool:
        """Read what the worker wrote and hand out its results; False when it has exited (EOF)."""
        try:
            while chunk := os.read(self.stdout, _READ_CHUNK):
                self._in += chunk
        except BlockingIOError:
            chunk = b"..."  # nothing more for now; not the end
        self.take_results()
        return bool(chunk)

    def _on_readable(self) -> None:
        if not self._read():
            self._replace(WorkerCrashError, "worker exited with status {code}")

    def take_results(self) -> None:
        while len(self._in) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._in)
            if len(self._in) < HEADER.size + size:
                return
            if size == 0:  # ready: the clock of the page it starts now runs from here
                del self._in[: HEADER.size]
                self.ready = True
                self._start_clock()
                continue
            result = pickle.loads(self._in[HEADER.size : HEADER.size + size])
            del self._in[: HEADER.size + size]
            job = self.jobs.popleft()
            self._start_clock()
            job.deliver(result)
        if not self.pool.closed:
            self.pool.dispatch()

    def _on_timeout(self) -> None:
        self._timer = None
        page = self.jobs[0] if self.jobs else None
        if self._read() and (not self.jobs or self.jobs[0] is not page):
            return  # its result was waiting in the pipe: the next page's clock has started
        self._replace(WorkerTimeoutError, f"extraction took longer than {self.pool.timeout:g} s; worker killed")

    def _replace(self, error: type[WorkerError], message: str) -> None:
        """The worker died or hung on ``jobs[0]``: that page fails; a new worker takes the others.

        With no other page, the new worker is started when a page needs it: a worker that cannot
        start at all (a broken install) then costs each page one attempt, not an endless loop."""
        code = self.end(kill=True)
        self._in.clear()  # killed mid-page: nothing more of use (results before EOF were read)
        failed, waiting = (self.jobs.popleft() if self.jobs else None), list(self.jobs)
        self.jobs.clear()
        if self.pool.closed:
            for job in [failed, *waiting]:
                if job is not None:
                    job.deliver(PoolClosedError("pool closed"))
            return
        if failed is not None:
            failed.deliver(error(message.format(code=code)))
        if waiting:
            self.spawn()
            for job in waiting:
                self.send(job)
        self.pool.dispatch()


class ExtractionPool:
    """``size`` worker processes running :func:`newsclean.extraction.extract`; see the module doc.

    ``faults`` is for tests only: ``{"crash": regex, "hang": regex, "slow": regex}`` makes a worker
    kill itself with SIGSEGV, sleep for good, or sleep ``SLOW_SECONDS``, on a page whose URL matches.
    """

    def __init__(
        self, size: int, timeout: float = 30.0, max_pending: int = 0, faults: Mapping[str, str] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("an extraction pool needs at least one worker")
        self.size = size
        self.timeout = timeout
        self.max_pending = max_pending or 4 * size
        self.worker_args = faults_module.as_args(faults)
        self.closed = False
        self.started_pids: list[int] = []
        self.loop: asyncio.AbstractEventLoop | None = None  # the event loop serving the pipes
        self._queue: collections.deque[_Job] = collections.deque()
        self._slots = asyncio.Semaphore(self.max_pending)
        self._workers = [_Worker(self) for _ in range(size)]
        self._started = False

    def start(self) -> Self:
        """Start the workers (each imports the extraction code, about half a second, in parallel)."""
        if not self._started and not self.closed:
            self._started = True
            for worker in self._workers:
                worker.spawn()
            atexit.register(self.close)
        return self

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers if w.proc is not None and w.alive]

    async def extract(
        self, html: str | bytes, url: str | None = None, site: str | None = None, *, encoding: str | None = None
    ) -> Extraction:
        """:func:`newsclean.extraction.extract` in a worker; waits while ``max_pending`` pages are in.

        Raises :class:`WorkerCrashError`, :class:`WorkerTimeoutError` or :class:`PoolClosedError` for this page.
        """
        async with self._slots:
            if self.closed:
                raise PoolClosedError("pool closed")
            self.start()
            loop = self.loop = asyncio.get_running_loop()
            for worker in self._workers:
                worker.attach(loop)
            data = pickle.dumps((html, url, site, encoding), pickle.HIGHEST_PROTOCOL)
            job = _Job(HEADER.pack(len(data)) + data, loop.create_future())
            self._queue.append(job)
            self.dispatch()
            return await job.future

    def dispatch(self) -> None:
        """Send queued pages to the workers with room, the emptiest first (starting a replaced one)."""
        while self._queue and not self.closed:
            worker = min(self._workers, key=lambda w: len(w.jobs))
            if len(worker.jobs) >= AHEAD:
                return
            job = self._queue.popleft()
            if job.future.done():  # its caller was cancelled meanwhile
                continue
            if worker.proc is None:
                worker.spawn()
            worker.send(job)

    def close(self) -> None:
        """Fail the pages still queued, let each worker finish its page, then end every worker."""
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        while self._queue:
            self._queue.popleft().deliver(PoolClosedError("pool closed"))
        if not self._started:
            return
        deadline = time.monotonic() + CLOSE_GRACE
        for worker in self._workers:
            if worker.proc is not None:
                worker.end(kill=False, grace=max(0.0, deadline - time.monotonic()))
                worker.take_results()  # the pages it finished within the grace period
            while worker.jobs:
                worker.jobs.popleft().deliver(PoolClosedError("pool closed"))
