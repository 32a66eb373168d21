"""The accounts domain's events: typed, stored with the change."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class AgentStatusChanged(Event):
    name = "agent.status_changed"
    description = "An agent's presence changed (online, away, offline)."
    agent_id: int
    old: str
    new: str
