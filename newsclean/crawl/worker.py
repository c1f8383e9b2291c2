"""An extraction worker: the process :class:`~newsclean.crawl.pool.ExtractionPool` starts as
``python -m newsclean.crawl.worker``. It imports the extraction code and the site declarations, never
Scrapy, reads ``(page, URL, site name, charset)`` pickles from standard input and writes
:class:`~newsclean.extraction.Extraction` pickles to standard output, until its input closes."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import signal
import sys
from typing import TYPE_CHECKING

from newsclean.crawl import faults
from newsclean.crawl.pool import HEADER

if TYPE_CHECKING:
    from newsclean.extraction.result import Extraction


def extract_page(html: str | bytes, url: str | None, site: str | None, encoding: str | None) -> Extraction:
    """A fetched page's extraction, as the crawl stores it: the article, unless the page turns out to
    be a section front or a soft 404 (:mod:`newsclean.pagekind`), which gives no article and that
    reason. (The inline path of :class:`~newsclean.crawl.extractor.Extractor` does the same.)"""
    from newsclean.extraction.core import MAX_PAGE_SIZE, extract
    from newsclean.extraction.html import decode
    from newsclean.extraction.result import Extraction
    from newsclean.pagekind import page_kind
    from newsclean.registry import site_named

    # Decoded once, for extraction and the page-kind check (extract decodes bytes the same way); a
    # page over the size limit goes as it came, for extract's own refusal.
    text: str | bytes = html
    if len(html) <= MAX_PAGE_SIZE:
        try:
            text = decode(html, encoding)
        except Exception:  # extract reports it, as it would have
            text = html
    result = extract(text, url, site_named(site) if site else None, encoding=encoding)
    if result.article is not None and (kind := page_kind(decode(text, encoding), result.article)):
        return Extraction(None, kind)
    return result


# A small article, extracted once before the worker says it is ready: the first page's lazy imports
# and set-up (trafilatura's and htmldate's date parsing, the MinHash) then cost the worker's start,
# not the first page's time.
_WARM_UP = (
    b"<html lang='en'><head><title>Warm-up</title>"
    b"<meta property='article:published_time' content='2024-01-02T10:00:00Z'></head><body><article>"
    b"<h1>Warm-up</h1><p>" + b"A sentence of a paragraph of the warm-up page, written out. " * 12 + b"</p>"
    b"<p>Published on 2 January 2024 by the newsroom.</p></article></body></html>"
)


def process_page(html: str | bytes, url: str | None, site: str | None, encoding: str | None) -> Extraction:
    """:func:`extract_page` as a worker sends it back: with the article's MinHash
    :class:`~newsclean.minhash.Fingerprint` attached (the store's clustering then does not compute it
    in the crawl process), without what each rule removed (for `newsclean try`, not for the crawl)."""
    from newsclean.minhash import fingerprint, set_fingerprint

    result = extract_page(html, url, site, encoding)
    result.removed = []
    if result.article is not None:
        set_fingerprint(result.article, fingerprint(result.article.text, result.article.content_hash))
    return result


def _die_with_parent() -> None:
    """Linux: the kernel sends this process SIGKILL when the process that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    """Extract pages from standard input until it closes; ``argv``: test faults (:mod:`.faults`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() == 1:  # the crawl died before the line above ran
        return 0
    from newsclean.extraction.language import factory
    from newsclean.registry import known_sites

    factory()  # every page needs the language profiles: loaded before the first one arrives
    known_sites()  # and the site declarations
    process_page(_WARM_UP, "https://warm-up.invalid/2024/01/02/warm-up.html", None, "utf-8")
    # What is loaded now stays: the garbage collector's full collections need not walk it again and
    # again (measured over 249 pages: its time 0.14 -> 0.02 ms a page).
    gc.freeze()
    injected = faults.parse(argv)
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s [worker {os.getpid()}] %(levelname)s: %(message)s")
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the results
    out.write(HEADER.pack(0))  # ready: the pool's clock for the first page starts now
    out.flush()
    while True:
        header = inp.read(HEADER.size)
        if len(header) < HEADER.size:
            return 0
        (size,) = HEADER.unpack(header)
        message = inp.read(size)
        if len(message) < size:  # the pool closed while it was sending this page
            return 0
        html, url, site, encoding = pickle.loads(message)
        faults.inject(url, injected)
        result = process_page(html, url, site, encoding)
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        out.write(HEADER.pack(len(data)) + data)
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
