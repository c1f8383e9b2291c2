"""One crawl across processes and hosts: a shared frontier on Redis, with scrapy-redis.

``-s NEWSCLEAN_FRONTIER=redis://host:6379/0 -s NEWSCLEAN_FRONTIER_RUN=NAME`` turns it on: every
``scrapy crawl`` process given the same spider, frontier and run name takes its requests from one
Redis priority queue and drops URLs any of them has already queued (scrapy-redis 0.9.1's
``Scheduler`` and ``RFPDupeFilter``). What newsclean adds around them:

- **Per-run keys.** ``newsclean:<run>:<spider>:requests`` / ``:dupefilter``: a crawl scheduled
  with a new run name starts clean; the queue persists (``SCHEDULER_PERSIST`` is forced on), so
  the first process to finish never deletes the others' work.
- **Nothing lost when a process dies.** A URL is marked seen and queued in one atomic step, and a
  request is moved from the queue into the process's own in-flight hash in another (Lua scripts);
  it leaves that hash only when Scrapy is done with it:
  downloaded, its callback run, its items through the pipelines (stored) and the requests it
  yielded queued. Each process keeps a heartbeat key alive in Redis, from a thread of its own, so
  that a busy event loop (a sitemap of thousands of URLs queued, inline extraction, a slow
  pipeline, taking over another process's requests) never makes a live process look dead; the
  in-flight requests of a process whose heartbeat expired (``kill -9``, a host gone) are put back
  in the queue by the others, except those whose article the dead process had already stored
  (looked up in the shared store, on one connection per takeover), so nothing is fetched and
  stored twice.
- **No early exit.** A process whose own work is done does not close while the queue has requests
  or another live process has requests in flight (``spider_idle`` + ``DontCloseSpider``); it
  closes when the whole crawl is done.
- **Seeds once.** Every process runs the spider's own ``async def start()``; the seeds, like every
  request a spider yields, are made filterable (``dont_filter`` off), so only the first process
  queues them. (Retries keep ``dont_filter``: they do not pass through the spider.)
- **Politeness across processes.** With a download delay, each request to a site first reserves
  the next free moment for that site in Redis (one key per site, Redis's clock), so N processes
  together send a site at most one request per ``DOWNLOAD_DELAY`` (or AutoThrottle's current delay
  for it, when larger): the pace of one process, not N times it.

Requests are pickled into Redis: everything in ``meta`` must be picklable, and the Redis server
must be trusted (whoever can write to it can make every crawl process run code).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

from newsclean import config, stats, store
from newsclean.dates import now_iso

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

HEARTBEAT = 0.5
"""Seconds between a process's heartbeats (from its heartbeat thread), and between its checks for
finished requests and dead processes (on the event loop)."""
DEAD_AFTER = 5.0
"""A process whose heartbeat is older than this is dead: its in-flight requests go back to the queue."""

LATE_TRIES = 5
"""How many turns a request may miss (its process busy when its turn came) before it goes anyway."""

# Pops the best request and records it in the popping process's in-flight hash, atomically: a
# request is always either in the queue or in exactly one process's in-flight hash.
_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0)
if #found == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('HSET', KEYS[2], found[1], ARGV[1])
return found[1]
"""
# Marks a request seen and queues it in one atomic step: a process killed between the two would
# leave a URL every process takes for queued, and nobody fetches. Returns 0 for a URL already seen.
_PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# Takes over a dead process's in-flight requests (into the caller's own hash, so that if the caller
# dies too, they are taken over again) and forgets the dead process.
_ADOPT = """
local items = redis.call('HGETALL', KEYS[1])
for i = 1, #items, 2 do redis.call('HSET', KEYS[2], items[i], items[i + 1]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return items
"""
# Reserves the next moment a site may be sent a request, across every process: returns how many
# milliseconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], at + delay, 'PX', delay + 60000)
return at - now
"""


def run_prefix(settings: BaseSettings) -> str:
    return f"newsclean:{config.FRONTIER_RUN.get(settings)}:%(spider)s"


class FrontierSettingsError(ValueError):
    """The shared frontier is asked for without what it needs (an add-on's NotConfigured would only warn)."""


class Frontier:
    """Scrapy add-on (``ADDONS``): when ``NEWSCLEAN_FRONTIER`` names a Redis server, the crawl takes
    its requests from the shared frontier."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = config.FRONTIER.get(settings)
        if not url:
            return
        run = config.FRONTIER_RUN.get(settings)
        if not run:
            raise FrontierSettingsError(
                "NEWSCLEAN_FRONTIER is set: name the crawl with -s NEWSCLEAN_FRONTIER_RUN=NAME, the same name "
                "on every process of one crawl and a new name for each new crawl (e.g. the date)"
            )
        prefix = run_prefix(settings)
        for name, value in {
            "SCHEDULER": "newsclean.crawl.frontier.FrontierScheduler",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "REDIS_URL": url,
        }.items():
            settings.set(name, value, priority="spider")
        # Off, and the whole crawl's work is lost the moment its first process finishes.
        settings.set("SCHEDULER_PERSIST", True, priority="cmdline")
        settings.set("SCHEDULER_FLUSH_ON_START", False, priority="cmdline")
        # The processes of one crawl share its work; the run lock would refuse all but the first.
        settings.set(config.LOCK_ENABLED.name, False, priority="cmdline")
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", FilterableRequests, 10)
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", SharedPoliteness, 960)


class FilterableRequests(BaseSpiderMiddleware):
    """Spider middleware: every request a spider yields (its seeds too) goes through the shared
    de-duplication, so that N processes running the same ``start()`` queue each seed once."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        return request.replace(dont_filter=False) if request.dont_filter else request


class Heartbeat(threading.Thread):
    """Keeps a process's heartbeat key alive in Redis every :data:`HEARTBEAT` seconds, from a thread
    of its own (its own Redis connection), for as long as the process lives and until :meth:`stop`.

    On the event loop, the heartbeat waited for whatever the loop was doing: queueing the thousands
    of requests of one sitemap (a Redis round trip each, with no turn given back to the loop),
    extracting inline, a slow pipeline, taking over a dead process's requests. Under load those
    held the loop for more than :data:`DEAD_AFTER` seconds, the others took the live process for
    dead and fetched and stored its requests in flight a second time. A killed process's thread
    dies with it, so its key still expires :data:`DEAD_AFTER` seconds after its last beat. (A
    process whose loop hangs for good keeps its requests: hung is not dead; stop it, and they go
    back to the queue.)"""

    def __init__(self, server: Any, key: str) -> None:
        super().__init__(name="newsclean-frontier-heartbeat", daemon=True)
        self.server = server  # redis-py's clients are thread-safe: each thread takes a connection of its own
        self.key = key
        self.stopped = threading.Event()

    def beat(self) -> None:
        self.server.set(self.key, now_iso(), px=int(DEAD_AFTER * 1000))

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT):
            try:
                self.beat()
            except Exception:  # Redis away for a moment: the next beat tries again
                logger.exception("shared frontier heartbeat failed")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler, with in-flight requests tracked per process and taken back from dead
    processes, and no process closing while the crawl has work anywhere."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.persist = True
        self.crawler: Crawler | None = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.handed: dict[Request, bytes] = {}  # requests given to the engine -> their queue entry
        self._pop = self.server.register_script(_POP)
        self._push = self.server.register_script(_PUSH)
        self._adopt = self.server.register_script(_ADOPT)
        self._task: asyncio.Task[None] | None = None
        self._heart: Heartbeat | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # Keys: <prefix>:workers (a set of process ids), <prefix>:alive:<id> (a heartbeat that expires),
    # <prefix>:inflight:<id> (queue entry -> when it was popped).
    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def open(self, spider: Spider) -> None:
        # scrapy-redis's own open(), less its flush on start (never wanted here) and its deprecated
        # Spider.log() call.
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name}, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.prefix = self.queue.key.removesuffix(":requests")
        self.inflight = self._key(f"inflight:{self.worker}")
        self._heart = Heartbeat(self.server, self._key(f"alive:{self.worker}"))
        self._heart.beat()
        self._heart.start()
        self.server.sadd(self._key("workers"), self.worker)
        self.store_target = config.DB.get(spider.settings) if config.SQLITE_ENABLED.get(spider.settings) else None
        self.adopt_dead()
        logger.info("shared frontier %s as %s: %d requests queued", self.prefix, self.worker, len(self.queue))
        self._task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        """The loop's side of the heartbeat: what needs the engine (the beat itself is :class:`Heartbeat`'s)."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                self.release_finished()
                self.adopt_dead()
                if len(self.queue):
                    self._engine_slot().nextcall.schedule()  # work appeared: do not wait for Scrapy's 5 s tick
            except Exception:
                logger.exception("shared frontier heartbeat failed")

    def _engine_slot(self) -> Any:
        assert self.crawler is not None
        assert self.crawler.engine is not None
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is None or not hasattr(slot, "inprogress"):
            raise RuntimeError("this Scrapy's engine keeps no set of requests in progress: the frontier cannot work")
        return slot

    def release_finished(self) -> None:
        """Removes from the in-flight hash the requests Scrapy is done with."""
        if not self.handed:
            return
        inprogress = self._engine_slot().inprogress
        done = [request for request in self.handed if request not in inprogress]
        if done:
            self.server.hdel(self.inflight, *[self.handed.pop(request) for request in done])

    def close(self, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
        with contextlib.suppress(RuntimeError):  # the engine's slot is gone already
            self.release_finished()
        # Whatever this process did not finish (a shutdown) goes back to the queue now.
        self.requeue(self.worker, self.server.hgetall(self.inflight).items())
        if self._heart is not None:
            self._heart.stop()
        pipe = self.server.pipeline()
        pipe.delete(self._key(f"alive:{self.worker}"))
        pipe.srem(self._key("workers"), self.worker)
        pipe.execute()
        super().close(reason)

    def enqueue_request(self, request: Request) -> bool:
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        data = self.queue._encode_request(request)
        if not self._push(keys=[self.df.key, self.queue.key], args=[fingerprint, -request.priority, data]):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        self.release_finished()
        data = self._pop(keys=[self.queue.key, self.inflight], args=[now_iso()])
        if not data:
            return None
        request = self.queue._decode_request(data)
        self.handed[request] = data
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def adopt_dead(self) -> None:
        """Puts the in-flight requests of every dead process back in the queue."""
        for member in self.server.smembers(self._key("workers")):
            worker = member.decode() if isinstance(member, bytes) else member
            if worker != self.worker and not self.server.exists(self._key(f"alive:{worker}")):
                self.adopt(worker)

    def adopt(self, worker: str) -> None:
        """Takes over the in-flight requests of the dead process ``worker``."""
        items = self._adopt(keys=[self._key(f"inflight:{worker}"), self.inflight, self._key("workers")], args=[worker])
        self.requeue(worker, list(zip(items[::2], items[1::2], strict=True)))

    def requeue(self, worker: str, pairs: Any) -> None:
        """Puts requests from this process's in-flight hash back in the queue, except those whose
        article is stored since they were popped."""
        pairs = list(pairs)
        if not pairs:
            return
        requeued = stored = 0
        requests = [(data, self.queue._decode_request(data), popped) for data, popped in pairs]
        done = self._already_stored(
            [(request.url, popped.decode() if isinstance(popped, bytes) else popped) for _, request, popped in requests]
        )
        for (data, request, _), is_stored in zip(requests, done, strict=True):
            if is_stored:
                self.server.hdel(self.inflight, data)  # its article is stored: done
                stored += 1
                continue
            pipe = self.server.pipeline()
            pipe.execute_command("ZADD", self.queue.key, -request.priority, data)
            pipe.hdel(self.inflight, data)
            pipe.execute()
            requeued += 1
        if self.stats:
            self.stats.inc_value(stats.FRONTIER_REQUEUED, requeued)
            self.stats.inc_value(stats.FRONTIER_REQUEUED_STORED, stored)
        logger.warning(
            "%s: %d requests in flight put back in the queue, %d whose article was already stored dropped",
            "this process is closing" if worker == self.worker else f"process {worker} is gone",
            requeued,
            stored,
        )

    def _already_stored(self, lookups: list[tuple[str, str]]) -> list[bool]:
        return stored_since(self.store_target, lookups)

    def spider_idle(self, spider: Spider) -> None:
        """Keeps this process open while the crawl has work anywhere."""
        self.release_finished()
        self.adopt_dead()
        queued = len(self.queue)
        elsewhere = sum(
            self.server.hlen(self._key(f"inflight:{(m.decode() if isinstance(m, bytes) else m)}"))
            for m in self.server.smembers(self._key("workers"))
        )
        if queued or elsewhere:
            logger.debug("idle, but the crawl goes on: %d queued, %d in flight elsewhere", queued, elsewhere)
            raise DontCloseSpider


def stored_since(target: str | None, lookups: list[tuple[str, str]]) -> list[bool]:
    """For each ``(url, since)``: True when the store ``target`` holds the article at ``url`` fetched
    at ``since`` or later. One connection for them all (a takeover used to open one per request,
    each with its schema check: seconds, under load, of an event loop held)."""
    if not lookups or not target or not store.exists(target):
        return [False] * len(lookups)
    with store.open_store(target) as opened:
        return [opened.stored_since(url, since) for url, since in lookups]


class SharedPoliteness:
    """Downloader middleware: with a download delay, N processes together send a site no more than one
    request per delay (one Redis key per site holds the next free moment)."""

    def __init__(self, crawler: Crawler) -> None:
        import redis

        self.crawler = crawler
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.autothrottle = crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
        self.server = redis.Redis.from_url(config.FRONTIER.get(crawler.settings))
        self._reserve = self.server.register_script(_RESERVE)
        self.prefix = f"newsclean:polite:{config.FRONTIER_RUN.get(crawler.settings)}"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not config.FRONTIER.get(crawler.settings):
            raise NotConfigured("no shared frontier")
        return cls(crawler)

    def _delay_for(self, slot: str) -> float:
        delay = self.delay
        engine = self.crawler.engine
        if self.autothrottle and engine is not None:
            current = engine.downloader.slots.get(slot)
            if current is not None:
                delay = max(delay, current.delay)
        return delay

    async def process_request(self, request: Request) -> None:
        slot = request.meta.get("download_slot") or urlsplit(request.url).hostname or ""
        delay = self._delay_for(slot)
        if delay <= 0:
            return
        loop = asyncio.get_running_loop()
        for _ in range(LATE_TRIES):
            wait = int(self._reserve(keys=[f"{self.prefix}:{slot}"], args=[int(delay * 1000)]))
            due = loop.time() + wait / 1000
            if wait > 0:
                await asyncio.sleep(wait / 1000)
            # Woken late (the event loop was busy): that turn has gone by, and sending now could
            # bunch this request with others'; take a new turn.
            if loop.time() - due <= delay / 2:
                return
        logger.debug("polite: %s late for its turn %d times on %s; sent now", request.url, LATE_TRIES, slot)
