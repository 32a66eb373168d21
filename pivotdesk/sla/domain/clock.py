"""The SLA clock of one ticket, computed from facts (what happened, in time order); no state is kept.

See docs/sla.md for the semantics (first reply, next reply, periodic update, resolution; pauses; breaches).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pivotdesk.sla.domain.calendar import BusinessCalendar

DEFAULT_PAUSED_STATUSES: frozenset[str] = frozenset({"pending", "on_hold"})


class Metric(StrEnum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Target:
    metric: Metric
    minutes: int
    business_hours: bool = True
    warn_at_percent: tuple[int, ...] = (75, 90)
    warn_minutes_before: tuple[int, ...] = ()


FactKind = Literal["created", "customer_message", "agent_public_reply", "status", "reopened"]


@dataclass(frozen=True)
class Fact:
    at: dt.datetime
    kind: FactKind
    status: str = ""


@dataclass(frozen=True)
class WarningPoint:
    at: dt.datetime
    label: str


@dataclass(frozen=True)
class Measurement:
    metric: Metric
    cycle: int
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    fulfilled_at: dt.datetime | None
    breached_at: dt.datetime | None
    paused: bool
    elapsed: dt.timedelta
    remaining: dt.timedelta | None
    warnings: tuple[WarningPoint, ...]


def measure(
    *,
    target: Target,
    facts: Sequence[Fact],
    calendar: BusinessCalendar,
    now: dt.datetime,
    paused_statuses: frozenset[str] = DEFAULT_PAUSED_STATUSES,
) -> Measurement:
    """The state of `target`'s clock at `now`, given the ticket's facts."""
    raise NotImplementedError


def measure_all(
    *,
    targets: Iterable[Target],
    facts: Sequence[Fact],
    calendar: BusinessCalendar,
    now: dt.datetime,
    paused_statuses: frozenset[str] = DEFAULT_PAUSED_STATUSES,
) -> list[Measurement]:
    """`measure` for every target."""
    return [
        measure(target=t, facts=facts, calendar=calendar, now=now, paused_statuses=paused_statuses) for t in targets
    ]


def next_check(measurements: Iterable[Measurement], now: dt.datetime) -> dt.datetime | None:
    """The earliest future warning or due time of the running clocks: when the scanner must look again."""
    raise NotImplementedError
