"""Output schemas of the sla API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class PolicyRefOut(Schema):
    id: int
    name: str


class ClockOut(Schema):
    """One clock of a ticket: state is running, paused, fulfilled (in time, or late when breached_at is set),
    breached (missed and still open) or idle (not started, or stopped by solved/closed)."""

    metric: str
    cycle: int
    state: str
    target_minutes: int
    business_hours: bool
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    fulfilled_at: dt.datetime | None
    breached_at: dt.datetime | None
    paused: bool
    elapsed_seconds: int
    remaining_seconds: int | None


class FiringOut(Schema):
    metric: str
    cycle: int
    kind: str
    label: str
    fired_at: dt.datetime
    due_at: dt.datetime | None
    text: str
    errors: list[str]


class CheckFailureOut(Schema):
    """The ticket's SLA check fails: the reason, failed checks in a row, and when the scanner tries again."""

    error: str
    attempts: int
    first_failed_at: dt.datetime
    retry_at: dt.datetime


class TicketSlaOut(Schema):
    """A ticket's service levels: the applied policy, the badge state, the nearest deadline, every clock, and
    what has fired (warnings, breaches, escalations)."""

    ticket_id: int
    number: int
    policy: PolicyRefOut | None
    state: str
    due_at: dt.datetime | None
    next_check_at: dt.datetime | None
    clocks: list[ClockOut]
    firings: list[FiringOut]
    check_failure: CheckFailureOut | None = None


class TargetOut(Schema):
    priority: str
    metric: str
    minutes: int
    business_hours: bool
    warn_at_percent: list[int]
    warn_minutes_before: list[int]


class EscalationOut(Schema):
    level: int
    metric: str
    minutes_after_breach: int
    actions: list[dict[str, Any]]


class SLAPolicyOut(Schema):
    """An SLA policy (named apart from routing's `PolicyOut`: the OpenAPI components share one namespace)."""

    id: int
    name: str
    description: str
    position: int
    active: bool
    conditions: dict[str, Any]
    calendar_id: int | None
    paused_statuses: list[str]
    targets: list[TargetOut]
    escalations: list[EscalationOut]
