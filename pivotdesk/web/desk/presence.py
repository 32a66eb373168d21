"""Who else has a ticket open: a small store in the Django cache, fed by heartbeats from the ticket page.

One cache key per ticket holds {agent_id: [state, name, expires_at]}. A heartbeat refreshes the caller's entry and
returns everybody else's live entries, so the ticket page can warn "李伟 is replying to this ticket". Entries expire
on their own (a closed tab stops sending heartbeats); the whole key expires shortly after the last heartbeat.
Read-modify-write is not atomic: two simultaneous heartbeats may drop one entry until its next beat, ~10 s later,
which is acceptable for a warning banner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

VIEWING = "viewing"
REPLYING = "replying"
STATES = frozenset({VIEWING, REPLYING})
TTL_SECONDS = 30  # an entry lives three missed heartbeats (the page beats every ~10 s)


@dataclass(frozen=True)
class Watcher:
    """Another agent who has the ticket open."""

    agent_id: int
    name: str
    state: str

    @property
    def replying(self) -> bool:
        return self.state == REPLYING


def _key(workspace_id: int, ticket_id: int) -> str:
    return f"pd:presence:{workspace_id}:{ticket_id}"


def _live(entries: dict[int, list[object]], at: float) -> dict[int, list[object]]:
    return {aid: entry for aid, entry in entries.items() if float(str(entry[2])) > at}


def heartbeat(
    *,
    workspace_id: int,
    ticket_id: int,
    agent_id: int,
    name: str,
    state: str = VIEWING,
    at: float | None = None,
) -> list[Watcher]:
    """Record that this agent has the ticket open (viewing or replying); return the other agents present."""
    if state not in STATES:
        state = VIEWING
    current = time.time() if at is None else at
    key = _key(workspace_id, ticket_id)
    entries = _live(cache.get(key) or {}, current)
    entries[agent_id] = [state, name, current + TTL_SECONDS]
    cache.set(key, entries, timeout=TTL_SECONDS * 2)
    return _watchers(entries, exclude=agent_id)


def leave(*, workspace_id: int, ticket_id: int, agent_id: int) -> None:
    """Forget this agent's presence on the ticket (the page was closed)."""
    key = _key(workspace_id, ticket_id)
    entries = cache.get(key) or {}
    if agent_id in entries:
        entries.pop(agent_id)
        cache.set(key, entries, timeout=TTL_SECONDS * 2)


def watchers(
    *, workspace_id: int, ticket_id: int, exclude: int | None = None, at: float | None = None
) -> list[Watcher]:
    """The agents who have the ticket open now (without the excluded one, usually the caller)."""
    current = time.time() if at is None else at
    return _watchers(_live(cache.get(_key(workspace_id, ticket_id)) or {}, current), exclude=exclude)


def _watchers(entries: dict[int, list[object]], *, exclude: int | None) -> list[Watcher]:
    found = [
        Watcher(agent_id=aid, name=str(entry[1]), state=str(entry[0]))
        for aid, entry in entries.items()
        if aid != exclude
    ]
    # Replying first: that is the one that can cause a collision.
    return sorted(found, key=lambda w: (not w.replying, w.name))
