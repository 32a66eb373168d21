"""Live updates: tell the agents' browsers within a second that a ticket changed, without polling every page.

The source of truth is the durable event table (`common_event`): every change a service makes stores its typed event
in the same transaction, so a stream only has to read its workspace's rows newer than the last one it sent (a range
of the primary key). What wakes a stream to read:

- **Redis** (`REDIS_URL` set): after commit, `wake()` PUBLISHes the workspace id on one channel; one listener thread
  per process (started by the first stream) turns that into a wake-up for every stream of the process, on every
  machine. Streams still read the table every `PIVOTDESK_LIVE_BACKSTOP_SECONDS` in case a message was lost.
- **Embedded** (no Redis): a change made in this process wakes this process's streams at once; a change made by
  another process (the event relay, a worker, a second web process) is found by reading the table every
  `PIVOTDESK_LIVE_POLL_SECONDS` (0.25 s: one indexed range read per stream and tick).

Rows commit out of id order under concurrent transactions (PostgreSQL hands out ids before commit), so a read looks
`SLACK` ids back and skips the ids it already sent.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

CHANNEL = "pivotdesk:live"
SLACK = 64  # ids looked back on each read, for rows that committed out of order
BATCH = 200


class _State:
    """This process's wake-up counter, Redis client and listener flag."""

    version = 0
    redis_client: Any = None
    listener_started = False


_state = _State()
_changed = threading.Condition()
_listener_lock = threading.Lock()


@dataclass(frozen=True)
class Change:
    """One stored event a stream may tell its browser about."""

    id: int
    name: str
    ticket_id: int | None


def poll_seconds() -> float:
    return float(getattr(settings, "PIVOTDESK_LIVE_POLL_SECONDS", 0.25))


def backstop_seconds() -> float:
    return float(getattr(settings, "PIVOTDESK_LIVE_BACKSTOP_SECONDS", 5.0))


def redis_url() -> str:
    return str(getattr(settings, "REDIS_URL", "") or "")


def version() -> int:
    """A number that grows whenever a wake-up arrives (in-process or from Redis)."""
    return _state.version


def _bump() -> None:
    with _changed:
        _state.version += 1
        _changed.notify_all()


def _redis() -> Any:
    if _state.redis_client is None:
        import redis

        _state.redis_client = redis.Redis.from_url(redis_url(), socket_timeout=2, socket_connect_timeout=2)
    return _state.redis_client


def wake(workspace_ids: Iterable[int]) -> None:
    """Called after a commit that stored events: wake this process's streams, and every process's through Redis."""
    ids = sorted(set(workspace_ids))
    if not ids:
        return
    _bump()
    if redis_url():
        try:
            _redis().publish(CHANNEL, json.dumps(ids))
        except Exception as exc:  # a live update is a courtesy: the streams' backstop read finds the change
            log.warning("live: could not publish to Redis: %s", exc)


def _listen_forever(url: str) -> None:  # pragma: no cover - runs in a daemon thread; tested through its effect
    import time

    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
    while True:
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            pubsub.subscribe(CHANNEL)
            for message in pubsub.listen():
                if message and message.get("type") == "message":
                    _bump()
        except Exception as exc:
            log.warning("live: Redis listener restarts after: %s", exc)
            time.sleep(1.0)


def ensure_listener() -> None:
    """Start this process's Redis listener once (only when Redis is configured)."""
    if not redis_url() or _state.listener_started:
        return
    with _listener_lock:
        if _state.listener_started:
            return
        threading.Thread(target=_listen_forever, args=(redis_url(),), name="pivotdesk-live-redis", daemon=True).start()
        _state.listener_started = True


def wait(seen_version: int, timeout: float) -> int:
    """Block until the version moves past `seen_version` or `timeout` passes; the version now."""
    with _changed:
        if _state.version == seen_version:
            _changed.wait(timeout)
        return _state.version


def read_interval() -> float:
    """How long a stream may go without reading the table: the poll (embedded) or the backstop (Redis)."""
    return backstop_seconds() if redis_url() else poll_seconds()


def latest_id() -> int:
    """The newest stored event id (a stream starts after it)."""
    from pivotdesk.common.models import EventRecord

    row = EventRecord.objects.order_by("-id").values_list("id", flat=True).first()
    return int(row or 0)


class Cursor:
    """Where a stream is: the highest id it sent, and the recent ids it sent (to skip them when looking back)."""

    def __init__(self, after: int) -> None:
        self.start = after  # never look back past where the stream began (a reconnect names what it had)
        self.after = after
        self.sent: deque[int] = deque(maxlen=4 * SLACK)

    def read(self, workspace_id: int) -> list[Change]:
        """The workspace's events after the cursor (looking `SLACK` ids back), oldest first; moves the cursor."""
        from pivotdesk.common.models import EventRecord

        rows = list(
            EventRecord.objects.filter(workspace_id=workspace_id, id__gt=max(self.after - SLACK, self.start))
            .order_by("id")
            .values_list("id", "name", "payload")[:BATCH]
        )
        seen = set(self.sent)
        changes = []
        for pk, name, payload in rows:
            if pk in seen:
                continue
            self.sent.append(pk)
            self.after = max(self.after, pk)
            ticket_id = payload.get("ticket_id") if isinstance(payload, dict) else None
            changes.append(Change(id=pk, name=name, ticket_id=ticket_id if isinstance(ticket_id, int) else None))
        return changes
