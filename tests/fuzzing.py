"""Hostile pages for fuzzing ``extract``: the project's real fixture pages, mutated.

Shared by ``tests/test_fuzz.py`` (a short run in CI) and ``benchmarks/fuzz.py`` (a long one).
Each example is ``(data, url, encoding, mutations)``: the page (bytes or text), the URL and HTTP
charset it is given with, and the names of the mutations applied, for the report.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SEEDS: tuple[bytes, ...] = tuple(p.read_bytes() for p in sorted((ROOT / "fixtures").glob("*/*.html")))
URLS = (
    "https://www.example.com/2024/12/30/town-hall",
    "http://[::1",
    "http://example.com:99999999/x",
    "",
    "not a url",
    "https://www.themoscowtimes.com/2024/12/30/a-a87467",
    "https://www.trtworld.com/article/a1f3c9e27b40",
    "https://www.theguardian.com/world/2024/dec/30/ferry",
)
CHARSETS = (None, "utf-8", "iso-8859-1", "windows-1251", "shift_jis", "utf-16", "punycode", "idna", "utf-7", "x-junk")
_TAG = re.compile(rb"<[^<>]{0,200}>")
HOSTILE_LINES = (
    b"<p>A" + b"a" * 2000 + b"nd it's in!</p>",
    b"<p>Updated" + b" " * 5000 + b":</p>",
    b"<p>Write to x at " + b"@" * 5000 + b" </p>",
    b"<p>" + b"3 " * 3000 + b"min read</p>",
    b"<p>Published: " + b"Mon, " * 2000 + b"</p>",
)


def _at(data: bytes, fraction: float) -> int:
    return int(len(data) * fraction)


def byte_flips(data: bytes, positions: list[float], values: list[int]) -> bytes:
    out = bytearray(data)
    for where, value in zip(positions, values, strict=False):
        if out:
            out[min(_at(data, where), len(out) - 1)] = value
    return bytes(out)


def truncate(data: bytes, where: float) -> bytes:
    return data[: _at(data, where)]


def delete_tags(data: bytes, where: float, count: int) -> bytes:
    tags = list(_TAG.finditer(data))
    if not tags:
        return data
    start = min(int(where * len(tags)), len(tags) - 1)
    doomed = tags[start : start + count]
    out, last = [], 0
    for match in doomed:
        out.append(data[last : match.start()])
        last = match.end()
    out.append(data[last:])
    return b"".join(out)


def deep_nesting(data: bytes, where: float, depth: int, tag: bytes) -> bytes:
    i = _at(data, where)
    return data[:i] + (b"<" + tag + b">") * depth + data[i:] + (b"</" + tag + b">") * depth


def huge_attribute(data: bytes, where: float, size: int, char: int) -> bytes:
    tags = list(_TAG.finditer(data))
    if not tags:
        return data
    match = tags[min(int(where * len(tags)), len(tags) - 1)]
    cut = match.end() - 1
    return data[:cut] + b' data-x="' + bytes([char]) * size + b'"' + data[cut:]


def mixed_encoding(data: bytes, where: float, codec: str) -> bytes:
    """A stretch of the page re-encoded in another charset (as pages pasted together are)."""
    i, j = _at(data, where), min(len(data), _at(data, where) + 4000)
    text = data[i:j].decode("utf-8", "replace")
    return data[:i] + text.encode(codec, "replace") + data[j:]


def insert(data: bytes, where: float, chunk: bytes) -> bytes:
    i = _at(data, where)
    return data[:i] + chunk + data[i:]


def repeat(data: bytes, where: float, times: int) -> bytes:
    i = _at(data, where)
    return data[:i] + data[i : i + 200] * times + data[i:]


_fraction = st.floats(min_value=0, max_value=1, allow_nan=False)
MUTATIONS: dict[str, st.SearchStrategy[Callable[[bytes], bytes]]] = {
    "byte flips": st.builds(
        lambda p, v: lambda d: byte_flips(d, p, v),
        st.lists(_fraction, min_size=1, max_size=50),
        st.lists(st.integers(0, 255), min_size=1, max_size=50),
    ),
    "truncation": st.builds(lambda w: lambda d: truncate(d, w), _fraction),
    "tag deletion": st.builds(lambda w, n: lambda d: delete_tags(d, w, n), _fraction, st.integers(1, 400)),
    "deep nesting": st.builds(
        lambda w, n, t: lambda d: deep_nesting(d, w, n, t),
        _fraction,
        st.integers(100, 6000),
        st.sampled_from([b"div", b"span", b"b", b"section", b"ul", b"table", b"blockquote", b"p", b"font"]),
    ),
    "huge attribute": st.builds(
        lambda w, n, c: lambda d: huge_attribute(d, w, n, c),
        _fraction,
        st.integers(1_000, 500_000),
        st.sampled_from(b"a \"'<>&=/"),
    ),
    "mixed encodings": st.builds(
        lambda w, c: lambda d: mixed_encoding(d, w, c),
        _fraction,
        st.sampled_from(["cp1252", "cp1251", "utf-16-le", "shift_jis", "latin-1", "koi8-r"]),
    ),
    "control characters": st.builds(
        lambda w, b: lambda d: insert(d, w, b),
        _fraction,
        st.binary(min_size=1, max_size=40).map(lambda b: bytes(c % 32 for c in b) + b"\x7f\xc2\x85\xef\xbf\xbe"),
    ),
    "random bytes": st.builds(lambda w, b: lambda d: insert(d, w, b), _fraction, st.binary(max_size=2000)),
    "hostile line": st.builds(lambda w, b: lambda d: insert(d, w, b), _fraction, st.sampled_from(HOSTILE_LINES)),
    "repeated chunk": st.builds(lambda w, n: lambda d: repeat(d, w, n), _fraction, st.integers(10, 3000)),
}


@st.composite
def hostile_pages(draw: st.DrawFn) -> tuple[bytes | str, str, str | None, list[str]]:
    """A fixture page with one to four mutations, or (one time in ten) bytes or text from scratch."""
    url = draw(st.sampled_from(URLS))
    encoding = draw(st.sampled_from(CHARSETS))
    if draw(st.integers(0, 9)) == 0:
        data: bytes | str = draw(st.one_of(st.binary(max_size=5000), st.text(max_size=5000)))
        return data, url, encoding, ["from scratch"]
    page = draw(st.sampled_from(SEEDS))
    names = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=4))
    for name in names:
        page = draw(MUTATIONS[name])(page)
    as_text = draw(st.integers(0, 4)) == 0
    return (page.decode("utf-8", "replace") if as_text else page), url, encoding, names


class TooSlow(BaseException):
    """An extraction took longer than its bound (a BaseException: extraction's own ``except
    Exception``, which turns any error into a reason, must not swallow it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TooSlow` in the block after ``seconds`` (SIGALRM; the regex engine and lxml
    return to Python often enough for it to land)."""

    def alarm(signum: int, frame: object) -> None:
        raise TooSlow(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def warm_up() -> None:
    """Pay the one-time costs of a process before pages are timed: imports, language profiles, and
    dateparser's regular expressions for every language (compiled on the first date string no
    language claims: several seconds, which htmldate, through trafilatura, can trigger on any page)."""
    from htmldate.extractors import external_date_parser

    from newsclean.extraction import extract

    external_date_parser("Ω 12 ÿ 2024 夜", "%Y-%m-%d")
    for page in SEEDS:
        extract(page, URLS[0])


def run_one(data: bytes | str, url: str, encoding: str | None, bound: float) -> tuple[float, str]:
    """Extract ``data`` within ``bound`` seconds: (seconds taken, problem or "")."""
    from newsclean.extraction import extract

    start = time.perf_counter()
    try:
        with time_limit(bound):
            result = extract(data, url or None, encoding=encoding)
    except TooSlow:
        return time.perf_counter() - start, f"took more than {bound} s"
    elapsed = time.perf_counter() - start
    if result.reason.startswith("extraction failed"):
        return elapsed, result.reason
    return elapsed, ""
