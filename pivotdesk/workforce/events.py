"""The workforce domain's events: typed, stored with the change (rule 13)."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class RosterPublished(Event):
    name = "workforce.roster_published"
    description = "A roster (a version of the shifts for some days) was published; its agents were notified."
    roster_id: int
    version: int
    start_date: str
    end_date: str
    agent_ids: list[int]


@register
@dataclass(frozen=True, kw_only=True)
class AvailabilityChanged(Event):
    name = "workforce.availability_changed"
    description = "Who is scheduled or on leave changed (a roster published, a request approved, a leave recorded)."
    agent_ids: list[int]
    reason: str


@register
@dataclass(frozen=True, kw_only=True)
class ShiftRequestChanged(Event):
    name = "workforce.request_changed"
    description = (
        "A shift swap, pick-up, leave or overtime request was sent, answered, approved, rejected or cancelled."
    )
    request_id: int
    kind: str
    status: str
    requester_id: int
    peer_id: int | None
    actor_id: int | None
