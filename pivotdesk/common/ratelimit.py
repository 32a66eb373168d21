"""The one rate limiter: a sliding-window counter in the shared Django cache, keyed by what is limited.

Every limit in PivotDesk goes through `hit()` — API tokens per minute, web form submissions and chat sessions per
client address and hour, chat messages per visitor and minute — so there is one algorithm, one key scheme and one
store. The count lives in the `shared` cache alias (`SHARED_CACHE`), never in a per-process one: Redis when
`REDIS_URL` is set (`INCR` is atomic, every machine counts together), else a SQLite file shared by every process on
the machine (`pivotdesk.common.sqlite_cache`: `incr` is one atomic statement). Django's database cache would not
do: its `incr` is a read and a write, so concurrent hits can be under-counted there.

The window slides (Cloudflare's "sliding window counter"): a hit counts in the current fixed window (a cache key per
window index, created atomically by `cache.add` and counted by `cache.incr`), and the previous window's count is
weighed by how much of it still overlaps the last `window_seconds`. A burst at the end of one window and the start
of the next cannot pass twice the limit, as it can with a plain fixed window, and there is no list of timestamps to
keep: two keys per (scope, key).

`client_ip(request)` is the address to limit a visitor by: REMOTE_ADDR, or behind a proxy (`BEHIND_PROXY`) the
right-most X-Forwarded-For hop that is not one of our own proxies (`PIVOTDESK_TRUSTED_PROXIES`) — the left part of
that header is whatever the client chose to send.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The cache alias every process shares (config/settings.py, CACHES): the limiter's and the login throttle's store.
SHARED_CACHE = "shared"


@dataclass(frozen=True)
class Verdict:
    """The answer for one hit: allowed or not, the weighted count it saw, and when to try again."""

    allowed: bool
    count: float
    limit: int
    retry_after: int  # seconds until a hit would be allowed again (0 when allowed)


def hit(
    *, scope: str, key: str, limit: int, window_seconds: int, cache_alias: str = SHARED_CACHE, at: float | None = None
) -> Verdict:
    """Count one attempt of `key` in `scope` (e.g. scope "api-token", key the token id) and say whether it is within
    `limit` attempts per sliding `window_seconds`. A refused attempt is counted too (a client hammering a closed door
    stays shut out). `limit` < 1 refuses everything; `at` (epoch seconds) is for tests."""
    now = time.time() if at is None else at
    index, into = divmod(now, window_seconds)
    base = f"pd:rl:{scope}:{_digest(key)}"
    current_key, previous_key = f"{base}:{int(index)}", f"{base}:{int(index) - 1}"
    cache = caches[cache_alias]
    # The window's key lives two windows: it is read as "the previous window" during the next one.
    if cache.add(current_key, 1, timeout=2 * window_seconds + 1):
        current = 1
    else:
        try:
            current = int(cache.incr(current_key))
        except ValueError:  # evicted between add and incr
            cache.add(current_key, 1, timeout=2 * window_seconds + 1)
            current = 1
    previous = int(cache.get(previous_key) or 0)
    overlap = 1.0 - into / window_seconds
    count = current + previous * overlap
    if limit >= 1 and count <= limit:
        return Verdict(allowed=True, count=count, limit=limit, retry_after=0)
    return Verdict(
        allowed=False,
        count=count,
        limit=limit,
        retry_after=_retry_after(current, previous, limit, into, window_seconds),
    )


def _retry_after(current: int, previous: int, limit: int, into: float, window_seconds: int) -> int:
    """Seconds until the weighted count drops to within the limit (the previous window's share fades linearly;
    the current window's count only goes when its window becomes the previous one and fades in turn)."""
    if limit < 1:
        return window_seconds
    if previous and current < limit:
        # current + previous * (1 - (into + t) / w) <= limit - 1 (room for one more hit)
        # — or at the latest when the window turns (then only this window's count, below the limit, is weighed).
        t = (1 - (limit - 1 - current) / previous) * window_seconds - into
        return max(1, math.ceil(min(t, window_seconds - into)))
    # Wait for the next window, then for this window's count to fade enough as the previous one.
    fade = (1 - (limit - 1) / current) * window_seconds if current else 0.0
    return max(1, math.ceil(window_seconds - into + fade))


def _digest(key: str) -> str:
    """A short, cache-safe form of any key (IPv6 colons, long visitor tokens): memcached and the database cache
    refuse spaces and long keys."""
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent the request, to limit by.

    Without BEHIND_PROXY: REMOTE_ADDR (X-Forwarded-For is ignored: anyone can send it). With it: REMOTE_ADDR is our
    proxy, so walk X-Forwarded-For from the right, skipping our own proxies (PIVOTDESK_TRUSTED_PROXIES, addresses or
    networks), and take the first other hop; every hop left of it was written by the client and is not trusted."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not getattr(settings, "BEHIND_PROXY", False):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    return forwarded_client(forwarded, remote=remote, trusted=trusted_proxies())


def trusted_proxies() -> list[Network]:
    """PIVOTDESK_TRUSTED_PROXIES as networks (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(p, strict=False) for p in getattr(settings, "PIVOTDESK_TRUSTED_PROXIES", [])]


def forwarded_client(forwarded: str, *, remote: str, trusted: Sequence[Network]) -> str:
    """The right-most X-Forwarded-For hop that is not a trusted proxy; `remote` when the header is empty. A hop that
    is not an IP address stops the walk at the hop right of it (the last one our proxies vouched for)."""
    last = remote
    for raw in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            return last
        if not any(address in network for network in trusted):
            return str(address)
        last = str(address)
    return last
