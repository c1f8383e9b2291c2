"""URL helpers shared by extraction, de-duplication and the spiders."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say where a reader came from, not what the page is.
TRACKING_PARAMS = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_ga|_gl|ref|ref_src|cmpid|ito|ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|"
    r"at_medium|at_campaign|xtor|s_cid|share|spm|__twitter_impression)$",
    re.IGNORECASE,
)


def canonicalize(url: str, base: str | None = None) -> str:
    """``url`` made absolute against ``base``, without tracking parameters or fragment.

    Scheme and host are lower-cased; the remaining query keeps its order.
    """
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def seen_key(text: str) -> bytes:
    """16 bytes standing for ``text`` in a run's sets of what was seen (URLs, texts): a crawl of
    many pages keeps one per page, 4 to 10 times smaller than the text. Two texts share one with a
    chance of about 1 in 10^38."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def mirrored_url(url: str, mirror: str) -> str:
    """Where ``url`` is found on a local ``mirror`` of the web (``NEWSCLEAN_MIRROR``): ``https://host/p?q``
    -> ``<mirror>/host/p?q``."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path or '/'}{query}"
