"""Fuzzing: ``extract`` on random and mutated real pages never fails and never takes long.

The pages are the project's fixtures mutated by ``tests/fuzzing.py`` (byte flips, truncation, tag
deletion, deep nesting, huge attributes, mixed encodings, control characters, random bytes, lines
that make regular expressions backtrack, repeated chunks), given with odd URLs and HTTP charsets.
"Never fails" is stronger than "never raises" (``extract`` turns any exception into a reason): no
page may reach that catch-all. The run is derandomized, so CI sees the same pages every time;
``benchmarks/fuzz.py`` runs the same strategy at random for longer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import SEEDS, hostile_pages, run_one, warm_up

# Seconds one page may take: a hundred times the usual 20-50 ms, a bound for hangs and
# super-linear blow-ups, not a speed target (benchmarks/fuzz.py measures speed).
BOUND = 10.0


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    warm_up()  # one-time costs of the process are not a page's


def test_the_seeds_are_the_fixture_pages() -> None:
    assert len(SEEDS) >= 15
    assert all(b"<html" in seed.lower() for seed in SEEDS)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(hostile_pages())
def test_extract_never_fails_nor_hangs_on_hostile_pages(
    example: tuple[bytes | str, str, str | None, list[str]],
) -> None:
    data, url, encoding, mutations = example
    _, problem = run_one(data, url, encoding, BOUND)
    assert not problem, f"{problem} (mutations: {mutations}, url {url!r}, charset {encoding!r})"
