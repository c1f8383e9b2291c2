"""Wire-copy clusters: articles whose texts are the same story republished (an agency story on ten
sites, lightly edited, a dateline or a trailer added) share one ``cluster`` id.

How: MinHash (``rensa``, 128 permutations) of the text's word 3-shingles; locality-sensitive hashing
in 32 bands of 4 rows, each band a 64-bit key in the indexed table ``minhash_bands``; an article whose
bands meet another's is compared on the whole signature, and joins its cluster when the estimated
Jaccard similarity of their shingles is at least ``THRESHOLD``. Measured: copies 0.70 and more, the
same story rewritten by another newsroom (the two seed articles) 0.07, unrelated articles under 0.02.
Everything lives in the store, so clusters form across runs, sites and processes with no index held
in memory; the lookup is one indexed query per article.

What an article costs, in a cluster of ``n`` copies: the band lookup returns every member that shares
a band (each band of a copy holds all ``n``), so that query grows with ``n`` (in SQLite about 2 ms
at ``n`` = 300). The rest does not compare or summarise every member: one copy tells a cluster is
joined (the candidates among its members, read once through the index on ``cluster``, are not
compared; the others are, and all of them only when copies lie in several clusters, to count them);
a copy joining one cluster takes its new size and original from the cluster's row (the earlier of the
stored original and the copy, by the same key as a full recompute) and its agency from the members
read (:func:`_join`). Merges, an article leaving its cluster or saved again into it, an agency's page
joining, and clusters of one are recomputed from all their members (:func:`_summarise`), as is a
cluster whose member re-extraction rewrote (:func:`refresh`). The stored results are the same
either way. Measured (``benchmarks``-like saves of the dev pages, one process's CPU time, median a
copy, machine loaded): 0.89 -> 0.71 ms at ``n`` = 30, 8.4 -> 2.8 ms at ``n`` = 300.

The cluster's original is its member published first (fetched first when no date is known), kept in
``clusters`` (``id``, ``original``, ``size``). An article alone is a cluster of one. When a copy joins
a cluster that holds a page on an agency's own site, every member without a ``source`` gets that
agency, with ``cluster:<agency>`` in its ``source_evidence``.

Plain functions on a store connection of either kind (SQLite or PostgreSQL, one SQL text:
:mod:`newsclean.store.dialect`), called inside the transaction that saves the article; nothing here
imports Scrapy.
"""

from __future__ import annotations

import hashlib
import json
import operator
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from newsclean.dates import parse_time
from newsclean.extraction.agencies import agency_for_url
from newsclean.minhash import (  # noqa: F401  (the signatures' names, for the callers of this module)
    BANDS,
    FINGERPRINT_ATTR,
    MIN_SHINGLES,
    NUM_PERM,
    ROWS,
    SEED,
    Fingerprint,
    band_keys,
    fingerprint,
    fingerprint_of,
    set_fingerprint,
    shingles,
    signature,
)
from newsclean.store import dialect, schema

# Estimated Jaccard similarity of word 3-shingles from which two texts are copies of one story. With
# 16 bands of 4 rows, a pair at 0.5 becomes a candidate with a chance of 0.65, at 0.7 of 0.99, at 0.8
# of 0.9996; a pair at 0.12 (unrelated news texts, at most) of 0.003, and is then turned down.
THRESHOLD = 0.5

# The tables (``minhash``, ``minhash_bands``, ``clusters``) are the store's, both kinds: schema.CLUSTER_TABLES.
# A cluster of one has no row in ``clusters`` (its original is the article, its size 1).

# The PostgreSQL advisory lock under which transactions cluster, one at a time on every host
# (PostgresStore.save_article, :func:`refresh`).
LOCK = 0x636C757374657273

_PACK = struct.Struct(f"<{NUM_PERM}I")
_LATEST = datetime.max.replace(tzinfo=UTC)


def create_tables(conn: Any) -> None:
    """The cluster tables and the index on ``articles.cluster`` on an SQLite connection (the articles
    table must exist; a store opened by newsclean has them)."""
    for statement in schema.render(schema.CLUSTER_TABLES, "sqlite"):
        conn.execute(statement)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    if len(a) != len(b):
        raise ValueError("signatures of different lengths")
    return sum(map(operator.eq, a, b)) / NUM_PERM


@lru_cache(maxsize=8192)
def _agency_of(url: str) -> str:
    """:func:`agency_for_url`, remembered: a cluster's members are asked again at each new member."""
    return agency_for_url(url)


@dataclass
class Assignment:
    """Where an article went: its cluster, the cluster's original, its size, and the agency whose own
    page is in the cluster (empty if none)."""

    cluster: str
    original: str
    size: int
    agency: str = ""


@lru_cache(maxsize=8192)
def _moment(published: str, fetched_at: str) -> datetime:
    """When a member was published (else fetched), for the cluster's original; remembered, as the
    members are read again at each new member."""
    return parse_time(published) or parse_time(fetched_at) or _LATEST


def _member_moment(conn: Any, member: dict[str, Any]) -> datetime:
    """:func:`_moment` of a member; its ``fetched_at`` read from the store only when its ``published``
    gives no time (see :func:`_summarise`)."""
    published = member["published"] or ""
    if "fetched_at" not in member:
        if (moment := _moment(published, "")) is not _LATEST:
            return moment
        row = dialect.execute(
            conn, "SELECT fetched_at FROM articles WHERE canonical_url = ?", (member["canonical_url"],)
        ).fetchone()
        member["fetched_at"] = (row[0] if row is not None else "") or ""
    return _moment(published, member["fetched_at"] or "")


def _new_id(conn: Any, url: str, content_hash: str) -> str:
    for seed in (url, f"{url} {content_hash}"):
        candidate = "c" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
        if _alone(conn, candidate, url):
            return candidate
    return "c" + hashlib.sha256(f"{url} {content_hash} {datetime.now(UTC)}".encode()).hexdigest()[:16]


def forget(conn: Any, url: str) -> None:
    """Remove an article's signature and bands (an article deleted from the store)."""
    row = dialect.execute(conn, "SELECT id, signature FROM minhash WHERE canonical_url = ?", (url,)).fetchone()
    if row is not None:
        dialect.executemany(
            conn,
            "DELETE FROM minhash_bands WHERE band = ? AND article = ?",
            [(k, row[0]) for k in band_keys(_PACK.unpack(row[1]))],
        )
        dialect.execute(conn, "DELETE FROM minhash WHERE id = ?", (row[0],))


def _record(conn: Any, url: str, sig: Sequence[int] | None, keys: Sequence[int] | None = None) -> int | None:
    """Store the article's signature and bands (``keys``: its band keys, when known), replacing its
    earlier ones; its id (None: no signature). An unchanged signature (the same text saved again)
    writes nothing."""
    row = dialect.execute(conn, "SELECT id, signature FROM minhash WHERE canonical_url = ?", (url,)).fetchone()
    packed = _PACK.pack(*sig) if sig is not None else None
    if row is not None:
        if bytes(row[1]) == packed:
            return int(row[0])
        dialect.executemany(
            conn,
            "DELETE FROM minhash_bands WHERE band = ? AND article = ?",
            [(k, row[0]) for k in band_keys(_PACK.unpack(row[1]))],
        )
        if packed is None:
            dialect.execute(conn, "DELETE FROM minhash WHERE id = ?", (row[0],))
            return None
        dialect.execute(conn, "UPDATE minhash SET signature = ? WHERE id = ?", (packed, row[0]))
        article = int(row[0])
    elif packed is None:
        return None
    else:
        inserted = dialect.execute(
            conn, "INSERT INTO minhash (canonical_url, signature) VALUES (?, ?) RETURNING id", (url, packed)
        ).fetchone()
        article = int(inserted[0])
    assert sig is not None
    keys = band_keys(sig) if keys is None else keys
    # One statement for all bands: one round trip to a PostgreSQL server, not one per band.
    dialect.execute(
        conn,
        f"INSERT INTO minhash_bands VALUES {', '.join('(?, ?)' for _ in keys)} ON CONFLICT DO NOTHING",
        [value for k in keys for value in (k, article)],
    )
    return article


def matches(conn: Any, sig: Sequence[int], exclude: int | None = None, keys: Sequence[int] | None = None) -> list[str]:
    """Stored articles (canonical URLs) whose text is a copy of the one with signature ``sig``
    (``keys``: its band keys, when known)."""
    keys = band_keys(sig) if keys is None else keys
    found = dialect.execute(
        conn,
        "SELECT canonical_url, signature FROM minhash WHERE id IN "
        f"(SELECT article FROM minhash_bands WHERE band IN ({', '.join('?' * len(keys))}))",
        keys,
    ).fetchall()
    return [
        url
        for url, other in found
        if similarity(sig, _PACK.unpack(other)) >= THRESHOLD and (exclude is None or url != exclude)
    ]


def assign(conn: Any, article: Mapping[str, Any], known: Fingerprint | None = None) -> Assignment:
    """Cluster ``article`` (a mapping with the Article's fields) against the store: record its
    signature and bands, join (and merge) the clusters of its copies, update their original and size.
    ``known``: the text's :class:`Fingerprint` computed beforehand (used only when its
    ``content_hash`` is the article's).

    Call it in the transaction that then saves the article's row with the returned ``cluster``; the
    other members' rows are updated here (cluster merged, source from an agency's own page).
    """
    url = article["canonical_url"]
    if dialect.is_sqlite(conn) and not conn.in_transaction:  # the lookup and the writes in one write
        conn.execute("BEGIN IMMEDIATE")  # transaction: no race (PostgreSQL: see PostgresStore.save_article)
    old = dialect.execute(conn, "SELECT cluster FROM articles WHERE canonical_url = ?", (url,)).fetchone()
    old_cluster = old[0] if old is not None else ""
    content_hash = article.get("content_hash") or ""
    if known is None or not content_hash or known.content_hash != content_hash:
        known = fingerprint(article.get("text") or "", content_hash)
    sig, keys = known.signature, known.bands or None
    candidates = _candidates(conn, keys if keys is not None else band_keys(sig)) if sig is not None else []
    _record(conn, url, sig, keys)

    joined, members = _joined(conn, sig, url, candidates) if sig is not None else ([], [])
    if joined:
        cluster = joined[0]
        for other in joined[1:]:  # the copy bridges clusters: one cluster
            dialect.execute(conn, "UPDATE articles SET cluster = ? WHERE cluster = ?", (cluster, other))
            dialect.execute(conn, "DELETE FROM clusters WHERE id = ?", (other,))
    else:
        cluster = old_cluster if old_cluster and _alone(conn, old_cluster, url) else ""
        cluster = cluster or _new_id(conn, url, article.get("content_hash") or "")
    if old_cluster and old_cluster != cluster:
        _summarise(conn, old_cluster, exclude=url)  # the cluster it left
    if len(joined) == 1 and cluster != old_cluster:
        joining = _join(conn, cluster, article, members)
        if joining is not None:
            return joining
    return _summarise(conn, cluster, exclude=url, new=article)


def _candidates(conn: Any, keys: Sequence[int]) -> list[tuple[str, bytes]]:
    """The stored articles that share a band with ``keys``: canonical URL and packed signature."""
    return dialect.execute(
        conn,
        "SELECT canonical_url, signature FROM minhash WHERE id IN "
        f"(SELECT article FROM minhash_bands WHERE band IN ({', '.join('?' * len(keys))}))",
        keys,
    ).fetchall()


def _joined(
    conn: Any, sig: Sequence[int], url: str, candidates: Sequence[tuple[str, bytes]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The clusters that hold a copy (similarity at least ``THRESHOLD``) of the text with signature
    ``sig`` among ``candidates`` (other than ``url``; a copy without a cluster counts for none), the
    one with the most copies first (then by id); and, when that is one cluster, its members
    (``canonical_url``, ``url``, ``source``: read by the index on ``cluster``).

    One copy tells a cluster is joined: the candidates that are its members are not compared; the
    others are, and only when one of them is a copy in another cluster (the article bridges
    clusters) are all compared, to count the copies in each as a full count does."""
    others = [(other, packed) for other, packed in candidates if other != url]
    cluster, start = "", len(others)
    for index, (other, packed) in enumerate(others):
        if similarity(sig, _PACK.unpack(packed)) >= THRESHOLD:
            row = dialect.execute(conn, "SELECT cluster FROM articles WHERE canonical_url = ?", (other,)).fetchone()
            if row is not None and row[0]:
                cluster, start = row[0], index + 1
                break
    if not cluster:
        return [], []
    members = [
        dict(zip(("canonical_url", "url", "source"), row, strict=True))
        for row in dialect.execute(
            conn, "SELECT canonical_url, url, source FROM articles WHERE cluster = ?", (cluster,)
        ).fetchall()
    ]
    inside = {m["canonical_url"] for m in members}
    copies = [
        other
        for other, packed in others[start:]
        if other not in inside and similarity(sig, _PACK.unpack(packed)) >= THRESHOLD
    ]
    found = (
        dialect.execute(
            conn,
            f"SELECT DISTINCT cluster FROM articles WHERE canonical_url IN ({', '.join('?' * len(copies))}) "
            "AND cluster != ''",
            copies,
        ).fetchall()
        if copies
        else []
    )
    if not found:
        return [cluster], members
    # Copies in several clusters: count them all, as SELECT cluster, COUNT(*) ... GROUP BY cluster would.
    copies = [other for other, packed in others if similarity(sig, _PACK.unpack(packed)) >= THRESHOLD]
    counted = dialect.execute(
        conn,
        f"SELECT cluster, COUNT(*) FROM articles WHERE canonical_url IN ({', '.join('?' * len(copies))}) "
        "AND cluster != '' GROUP BY cluster ORDER BY COUNT(*) DESC, cluster",
        copies,
    ).fetchall()
    return [row[0] for row in counted], []


def _join(conn: Any, cluster: str, new: Mapping[str, Any], members: Sequence[dict[str, Any]]) -> Assignment | None:
    """The article ``new`` joins ``cluster``, whose stored ``members`` (``canonical_url``, ``url``,
    ``source``; ``new`` not among them) are given: the result of :func:`_summarise` without computing
    every member's publication time: the cluster's row gives the size (plus one) and the original (the
    earlier of it and ``new``, by the same key). None where that cannot be told so (the caller then
    runs :func:`_summarise`): a cluster of one (no row), a row whose size or original is not the
    members', ``new`` a page on an agency's own site, or agency pages of different agencies among the
    members (the one credited then depends on the order the members are read in)."""
    member = {k: new.get(k) or "" for k in ("canonical_url", "url", "published", "fetched_at")}
    if _agency_of(member["url"] or member["canonical_url"]):
        return None
    agencies = {a for m in members if (a := _agency_of(m["url"] or m["canonical_url"]))}
    if len(agencies) > 1:
        return None
    row = dialect.execute(
        conn,
        "SELECT c.original, c.size, a.published FROM clusters AS c "
        "JOIN articles AS a ON a.canonical_url = c.original WHERE c.id = ?",
        (cluster,),
    ).fetchone()
    if row is None or int(row[1]) != len(members) or not any(m["canonical_url"] == row[0] for m in members):
        return None
    original = {"canonical_url": row[0], "published": row[2] or ""}
    if (_member_moment(conn, member), member["canonical_url"]) < (_member_moment(conn, original), row[0]):
        original = member
    size = len(members) + 1
    dialect.execute(
        conn, "UPDATE clusters SET original = ?, size = ? WHERE id = ?", (original["canonical_url"], size, cluster)
    )
    agency = next(iter(agencies), "")
    if agency:
        for other in members:
            _credit(conn, other, agency)
    return Assignment(cluster, original["canonical_url"], size, agency)


def cluster_row(conn: Any, row: dict[str, Any], known: Fingerprint | None = None) -> Assignment:
    """Set the article's row's ``cluster`` (:func:`assign`, in the caller's transaction); a copy of an
    agency's own page without a source gets the agency, with ``cluster:<agency>`` in its
    ``source_evidence`` (``row``: the store's column values, lists as JSON)."""
    assignment = assign(conn, row, known)
    row["cluster"] = assignment.cluster
    if assignment.agency and not row["source"]:
        evidence = json.loads(row["source_evidence"] or "[]")
        row["source"] = assignment.agency
        row["source_evidence"] = json.dumps([*evidence, f"cluster:{assignment.agency}"], ensure_ascii=False)
    return assignment


def lock(conn: Any) -> None:
    """Take the clustering lock for the rest of the transaction: with PostgreSQL, the transactions
    that cluster (or rewrite a member's row) take turns, on every host; an SQLite write transaction
    has the store to itself already."""
    if not dialect.is_sqlite(conn):
        dialect.execute(conn, "SELECT pg_advisory_xact_lock(?)", (LOCK,))


def refresh(conn: Any, cluster: str) -> None:
    """Recompute ``cluster``'s original, size and agency credits from its members as stored: after a
    member's row was rewritten other than through :func:`assign` (re-extraction: another publication
    date or source), as :func:`assign` relies on a cluster's row and credits being up to date. Call it
    in the transaction that rewrote the row, after :func:`lock`."""
    if cluster:
        _summarise(conn, cluster, exclude="")


def _alone(conn: Any, cluster: str, url: str) -> bool:
    other = dialect.execute(
        conn, "SELECT 1 FROM articles WHERE cluster = ? AND canonical_url != ? LIMIT 1", (cluster, url)
    )
    return other.fetchone() is None


def _summarise(
    conn: Any,
    cluster: str,
    exclude: str,
    new: Mapping[str, Any] | None = None,
) -> Assignment:
    # Only the columns that come before ``text`` in a row: SQLite reads a column stored after a long
    # text by walking the text's overflow pages. ``fetched_at`` (for a member without a usable
    # ``published``) and ``source_evidence`` (for a member to credit) are read when needed. In a
    # backfill of the benchmark's pages (clusters of some 36 copies) this took the query from 276 to
    # 193 µs an article.
    members = [
        dict(zip(("canonical_url", "url", "published", "source"), row, strict=True))
        for row in dialect.execute(
            conn,
            "SELECT canonical_url, url, published, source FROM articles WHERE cluster = ? AND canonical_url != ?",
            (cluster, exclude),
        ).fetchall()
    ]
    if new is not None:
        members.append({k: new.get(k) or "" for k in ("canonical_url", "url", "published", "fetched_at")})
    if len(members) < 2:  # a cluster of one has no row
        dialect.execute(conn, "DELETE FROM clusters WHERE id = ?", (cluster,))
        alone = members[0]["canonical_url"] if members else ""
        return Assignment(cluster, alone, len(members))
    original = min(members, key=lambda m: (_member_moment(conn, m), m["canonical_url"]))
    dialect.execute(
        conn,
        "INSERT INTO clusters VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "original = excluded.original, size = excluded.size",
        (cluster, original["canonical_url"], len(members)),
    )
    agency = ""
    if len(members) > 1:
        agency = next((a for m in members if (a := _agency_of(m["url"] or m["canonical_url"]))), "")
        if agency:
            for member in members:
                if member is not members[-1] or new is None:
                    _credit(conn, member, agency)
    return Assignment(cluster, original["canonical_url"], len(members), agency)


def _credit(conn: Any, member: Mapping[str, Any], agency: str) -> None:
    """Give a stored member without a source the agency of its cluster."""
    if member.get("source"):
        return
    if "source_evidence" not in member:
        row = dialect.execute(
            conn, "SELECT source_evidence FROM articles WHERE canonical_url = ?", (member["canonical_url"],)
        ).fetchone()
        member["source_evidence"] = row[0] if row is not None else ""
    evidence = json.loads(member.get("source_evidence") or "[]")
    evidence.append(f"cluster:{agency}")
    dialect.execute(
        conn,
        "UPDATE articles SET source = ?, source_evidence = ? WHERE canonical_url = ?",
        (agency, json.dumps(evidence, ensure_ascii=False), member["canonical_url"]),
    )
