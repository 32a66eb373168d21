"""A per-process cache of a workspace's configuration (status labels, custom fields, …) with invalidation.

Configuration is read on every ticket creation and changes rarely. Each process keeps what it loaded for at most
`PIVOTDESK_CONFIG_CACHE_SECONDS`; a configuration service calls `invalidate(workspace_id)` after a change, which
clears this process at once and bumps a version in the Django cache, so other processes sharing that cache (Redis)
reload at their next read. With the default per-process cache, other processes see the change within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")

_lock = threading.Lock()
_entries: dict[tuple[int, str], tuple[float, Any, Any]] = {}  # (workspace, name) → (loaded at, version, value)


def _version_key(workspace_id: int) -> str:
    return f"pivotdesk:config-version:{workspace_id}"


def _shared_version(workspace_id: int) -> Any:
    if not getattr(settings, "REDIS_URL", ""):
        return None  # a per-process cache: no other process can see the version; the TTL bounds staleness
    return cache.get(_version_key(workspace_id))


def workspace_config[T](workspace_id: int, name: str, load: Callable[[], T]) -> T:
    """The value of `load()` for this workspace, loaded at most once per TTL (or version change) per process."""
    ttl = float(getattr(settings, "PIVOTDESK_CONFIG_CACHE_SECONDS", 10.0))
    key = (workspace_id, name)
    version = _shared_version(workspace_id)
    entry = _entries.get(key)
    if entry is not None and entry[1] == version and time.monotonic() - entry[0] < ttl:
        value: T = entry[2]
        return value
    value = load()
    with _lock:
        _entries[key] = (time.monotonic(), version, value)
    return value


def invalidate(workspace_id: int) -> None:
    """A workspace's configuration changed: reload it here at once, and in other processes at their next read."""
    with _lock:
        for key in [k for k in _entries if k[0] == workspace_id]:
            del _entries[key]
    if getattr(settings, "REDIS_URL", ""):
        try:
            cache.incr(_version_key(workspace_id))
        except ValueError:
            cache.set(_version_key(workspace_id), 1, timeout=None)


def clear() -> None:
    """Forget everything (tests)."""
    with _lock:
        _entries.clear()
