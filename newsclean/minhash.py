"""MinHash signatures of article texts, for the wire-copy clusters (:mod:`newsclean.store.clusters`):
plain functions on text, so that an extraction worker computes an article's signature and band keys
beside its extraction (:class:`Fingerprint`) and the process that saves it spends no time on them.

The signature is ``rensa``'s MinHash (``NUM_PERM`` permutations) of the text's word 3-shingles; its
``BANDS`` bands of ``ROWS`` rows are each hashed to one signed 64-bit key, as SQLite stores integers.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rensa

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SEED = 20241227
# Texts with fewer shingles than this are too short to tell a copy from a coincidence: alone.
MIN_SHINGLES = 20

_WORD = re.compile(r"\w+")
_BAND = struct.Struct(f"<B{ROWS}I")


def shingles(text: str) -> list[str]:
    """The text's word 3-shingles: lower-cased words, punctuation ignored, in order."""
    words = _WORD.findall(text.lower())
    return [f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)]


def signature(text: str) -> list[int] | None:
    """The MinHash signature of the text's shingles (``NUM_PERM`` 32-bit values); None when too short."""
    grams = shingles(text)
    if len(set(grams)) < MIN_SHINGLES:
        return None
    minhash = rensa.RMinHash(NUM_PERM, SEED)
    minhash.update(grams)
    return list(minhash.digest())


def band_keys(sig: Sequence[int]) -> list[int]:
    """One signed 64-bit key per band (band number and its rows hashed), as SQLite stores integers."""
    keys = []
    for band in range(BANDS):
        rows = _BAND.pack(band, *sig[band * ROWS : (band + 1) * ROWS])
        keys.append(int.from_bytes(hashlib.blake2b(rows, digest_size=8).digest(), "little", signed=True))
    return keys


@dataclass(frozen=True)
class Fingerprint:
    """A text's signature and band keys, computed where the text is extracted (an extraction worker).
    ``content_hash`` is the text's (the Article's field): the store uses a fingerprint only for an
    article with that very text, and computes it itself otherwise."""

    content_hash: str
    signature: tuple[int, ...] | None
    bands: tuple[int, ...] = ()


FINGERPRINT_ATTR = "_newsclean_fingerprint"


def fingerprint(text: str, content_hash: str) -> Fingerprint:
    """The :class:`Fingerprint` of ``text`` (whose SHA-256 is ``content_hash``)."""
    sig = signature(text)
    if sig is None:
        return Fingerprint(content_hash, None)
    return Fingerprint(content_hash, tuple(sig), tuple(band_keys(sig)))


def fingerprint_of(item: Any) -> Fingerprint | None:
    """The fingerprint attached to an article item (by its extraction worker), if any."""
    return getattr(item, FINGERPRINT_ATTR, None)


def set_fingerprint(item: Any, value: Fingerprint) -> None:
    """Attach ``value`` to an article item: not a field, so nothing stored or exported changes."""
    object.__setattr__(item, FINGERPRINT_ATTR, value)
