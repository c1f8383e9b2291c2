"""Shared test set-up: the loopback fixture server and the project's root folder."""

from __future__ import annotations

import os
import sys
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
