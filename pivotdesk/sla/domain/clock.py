"""The SLA clock of one ticket, computed from facts (what happened, in time order); no state is kept.

Semantics (docs/sla.md has the long form and the comparison with Zendesk and Zammad):

- FIRST_REPLY starts at "created" and is fulfilled by the first agent public reply.
- NEXT_REPLY: once the first reply is done, a customer message with no open cycle starts one from that (the
  oldest unanswered) message; the next agent public reply fulfils it.
- PERIODIC_UPDATE: every agent public reply starts a cycle that the next agent public reply fulfils.
- RESOLUTION starts at "created" and is fulfilled while the ticket is solved/closed; reopening resumes it without
  reset (elapsed continues from where it stopped).
- A paused status (pending, on hold by default) stops every running clock and leaving it resumes without reset;
  solved/closed stop every clock the same way (a reopen resumes them).
- A clock breaches when its elapsed time reaches the target while it is running. A fulfilment exactly at the due
  time is in time; a fulfilment after it is recorded together with the breach.
- Warnings (percent of the target, or N minutes before the due time) are measured on the same clock, so "30 min
  before" means 30 minutes of business time (calendar time for calendar-hour targets) before due.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pivotdesk.common.calendars.calendar import BusinessCalendar, add_business_time, business_time_between

DEFAULT_PAUSED_STATUSES: frozenset[str] = frozenset({"pending", "on_hold"})
STOPPED_STATUSES: frozenset[str] = frozenset({"solved", "closed"})


class Metric(StrEnum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Target:
    """One SLA target: `minutes` of business time (or calendar time when business_hours=False) for a metric."""

    metric: Metric
    minutes: int
    business_hours: bool = True
    warn_at_percent: tuple[int, ...] = (75, 90)
    warn_minutes_before: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", Metric(self.metric))
        if isinstance(self.minutes, bool) or not isinstance(self.minutes, int) or self.minutes <= 0:
            raise ValueError(f"target minutes must be a positive whole number, got {self.minutes!r}")
        for percent in self.warn_at_percent:
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 < percent < 100:
                raise ValueError(f"warning percentages must be whole numbers between 1 and 99, got {percent!r}")
        for minutes in self.warn_minutes_before:
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes < self.minutes:
                raise ValueError(
                    f"warning minutes before due must be between 1 and {self.minutes - 1} (the target), got {minutes!r}"
                )


FactKind = Literal["created", "customer_message", "agent_public_reply", "status", "reopened"]
FACT_KINDS: frozenset[str] = frozenset({"created", "customer_message", "agent_public_reply", "status", "reopened"})


@dataclass(frozen=True)
class Fact:
    """Something that happened to the ticket. For kind="status", `status` is the new status category
    (new, open, pending, on_hold, solved, closed). "reopened" means the ticket left solved/closed (to `status`
    when given, else open)."""

    at: dt.datetime
    kind: FactKind
    status: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FACT_KINDS:
            raise ValueError(f"unknown fact kind {self.kind!r}")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"fact time must be timezone-aware, got {self.at!r}")
        if self.kind == "status" and not self.status:
            raise ValueError("a status fact needs the new status")


@dataclass(frozen=True)
class WarningPoint:
    """When a warning is due (absolute) and which one: "75%" or "30 min before"."""

    at: dt.datetime
    label: str


@dataclass(frozen=True)
class Measurement:
    """The state of one target's clock (its current cycle) at `now`.

    `due_at` is set only while the clock runs (it is in the past once breached); `remaining` is target − elapsed
    (negative when overdue) for a started, unfulfilled clock, else None. `paused` is true while a paused status
    holds the clock; a clock that was started but is neither fulfilled, paused nor running was stopped by
    solved/closed (`state == "stopped"`).
    """

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

    @property
    def state(self) -> Literal["inactive", "running", "paused", "stopped", "fulfilled"]:
        if self.started_at is None:
            return "inactive"
        if self.fulfilled_at is not None:
            return "fulfilled"
        if self.paused:
            return "paused"
        if self.due_at is not None:
            return "running"
        return "stopped"

    @property
    def breached(self) -> bool:
        return self.breached_at is not None


# A running stretch of a clock: [start, end) with end None while it still runs at `now`, and why it ended:
# "pause" (a paused status), "stop" (solved/closed) or "fulfil" (the cycle's fulfilment).
_End = Literal["pause", "stop", "fulfil", "open"]
_Segment = tuple[dt.datetime, dt.datetime | None, _End]


@functools.lru_cache(maxsize=64)
def _calendar_hours(time_zone: str) -> BusinessCalendar:
    return BusinessCalendar.always_open(time_zone)


def _clock_calendar(target: Target, calendar: BusinessCalendar) -> BusinessCalendar:
    return calendar if target.business_hours else _calendar_hours(calendar.time_zone)


@dataclass(frozen=True)
class _Timeline:
    """The ticket's facts up to now, reduced to what the clocks need."""

    created_at: dt.datetime | None
    # (instant, state after it): "running", "pause" or "stop", starting with created.
    changes: tuple[tuple[dt.datetime, Literal["running", "pause", "stop"]], ...]
    facts: tuple[Fact, ...]

    def state_at_end(self) -> Literal["running", "pause", "stop"] | None:
        return self.changes[-1][1] if self.changes else None

    def segments(self, start: dt.datetime, end: dt.datetime | None) -> list[_Segment]:
        """The running stretches inside [start, end) (end None: still open at now), each with why it ended."""
        out: list[_Segment] = []
        for index, (at, state) in enumerate(self.changes):
            if state != "running":
                continue
            b: dt.datetime | None = None
            reason: _End = "open"
            if index + 1 < len(self.changes):
                b, after = self.changes[index + 1]
                reason = "pause" if after == "pause" else "stop"  # never "running": changes alternate
            if end is not None and (b is None or end <= b):
                b, reason = end, "fulfil"
            a = max(at, start)
            if b is not None and b <= a:
                continue
            out.append((a, b, reason))
            if reason == "fulfil":
                break
        return out


def _timeline(facts: Sequence[Fact], now: dt.datetime, paused_statuses: frozenset[str]) -> _Timeline:
    ordered = tuple(sorted((f for f in facts if f.at <= now), key=lambda f: f.at))
    created_at: dt.datetime | None = None
    changes: list[tuple[dt.datetime, Literal["running", "pause", "stop"]]] = []
    status = "new"
    for fact in ordered:
        if created_at is None:
            if fact.kind != "created":
                continue  # nothing runs before the ticket exists
            created_at = fact.at
        elif fact.kind == "status":
            status = fact.status
        elif fact.kind == "reopened":
            status = fact.status or "open"
        else:
            continue
        state: Literal["running", "pause", "stop"] = (
            "stop" if status in STOPPED_STATUSES else "pause" if status in paused_statuses else "running"
        )
        if not changes or changes[-1][1] != state:
            changes.append((fact.at, state))
    relevant = tuple(f for f in ordered if created_at is not None and f.at >= created_at)
    return _Timeline(created_at=created_at, changes=tuple(changes), facts=relevant)


def _cycles(metric: Metric, timeline: _Timeline) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """(start, fulfilled_at) of every cycle of `metric`, oldest first; fulfilled_at None while open."""
    if timeline.created_at is None:
        return []
    if metric is Metric.FIRST_REPLY:
        reply = next((f.at for f in timeline.facts if f.kind == "agent_public_reply"), None)
        return [(timeline.created_at, reply)]
    if metric is Metric.RESOLUTION:
        solved = timeline.changes[-1][0] if timeline.state_at_end() == "stop" else None
        return [(timeline.created_at, solved)]
    cycles: list[tuple[dt.datetime, dt.datetime | None]] = []
    open_start: dt.datetime | None = None
    replied = False
    for fact in timeline.facts:
        if fact.kind == "agent_public_reply":
            if metric is Metric.NEXT_REPLY:
                if open_start is not None:
                    cycles.append((open_start, fact.at))
                    open_start = None
                replied = True
            else:  # PERIODIC_UPDATE: each public reply fulfils the running cycle and starts the next
                if open_start is not None:
                    cycles.append((open_start, fact.at))
                open_start = fact.at
        elif fact.kind == "customer_message" and metric is Metric.NEXT_REPLY and replied and open_start is None:
            open_start = fact.at
    if open_start is not None:
        cycles.append((open_start, None))
    return cycles


def _reach(
    calendar: BusinessCalendar,
    segments: list[_Segment],
    lengths: list[dt.timedelta | None],
    threshold: dt.timedelta,
) -> dt.datetime | None:
    """The instant the clock's elapsed time reaches `threshold` (> 0), or None if it does not in these segments.

    `lengths` are the segments' business lengths (None for the open one). Reaching the threshold exactly at the end
    of a stretch that ended by fulfilment (or solve) does not count: a reply exactly at the due time is in time,
    and no warning fires at the instant of the reply.
    """
    before = dt.timedelta(0)
    for (a, b, reason), length in zip(segments, lengths, strict=True):
        if length is None or before + length >= threshold:
            instant = add_business_time(calendar, a, threshold - before)
            if b is None or instant < b or reason not in ("fulfil", "stop"):
                return instant
            # Reached exactly as the stretch ended by fulfilment or solve: in time. Only a later stretch (after a
            # reopen) can still reach it, at once.
        assert length is not None  # noqa: S101 - only the open stretch has no length, and it always returns
        before += length
    return None


def _measure_cycle(
    *,
    target: Target,
    calendar: BusinessCalendar,
    timeline: _Timeline,
    cycle: int,
    start: dt.datetime,
    fulfilled_at: dt.datetime | None,
    now: dt.datetime,
) -> Measurement:
    zone = calendar.zone
    segments = timeline.segments(start, fulfilled_at)
    lengths = [None if b is None else business_time_between(calendar, a, b) for a, b, _ in segments]
    elapsed = sum(
        (
            business_time_between(calendar, a, now) if length is None else length
            for (a, _, _), length in zip(segments, lengths, strict=True)
        ),
        dt.timedelta(0),
    )
    goal = dt.timedelta(minutes=target.minutes)
    crossing = _reach(calendar, segments, lengths, goal)
    breached_at = crossing if crossing is not None and crossing <= now else None
    running = fulfilled_at is None and bool(segments) and segments[-1][1] is None
    paused = fulfilled_at is None and timeline.state_at_end() == "pause"
    due_at = crossing if running else None
    thresholds: dict[dt.timedelta, str] = {}
    for minutes in sorted(target.warn_minutes_before, reverse=True):
        thresholds.setdefault(goal - dt.timedelta(minutes=minutes), f"{minutes} min before")
    for percent in sorted(target.warn_at_percent):
        thresholds.setdefault(goal * percent / 100, f"{percent}%")
    warnings = []
    for threshold, label in thresholds.items():
        instant = _reach(calendar, segments, lengths, threshold)
        if instant is not None:
            warnings.append(WarningPoint(at=instant.astimezone(zone), label=label))
    warnings.sort(key=lambda w: w.at)
    return Measurement(
        metric=target.metric,
        cycle=cycle,
        started_at=start.astimezone(zone),
        due_at=due_at.astimezone(zone) if due_at is not None else None,
        fulfilled_at=fulfilled_at.astimezone(zone) if fulfilled_at is not None else None,
        breached_at=breached_at.astimezone(zone) if breached_at is not None else None,
        paused=paused,
        elapsed=elapsed,
        remaining=None if fulfilled_at is not None else goal - elapsed,
        warnings=tuple(warnings),
    )


def measure_cycles(
    *,
    target: Target,
    facts: Sequence[Fact],
    calendar: BusinessCalendar,
    now: dt.datetime,
    paused_statuses: frozenset[str] = DEFAULT_PAUSED_STATUSES,
) -> list[Measurement]:
    """Every cycle of `target` up to `now`, oldest first (empty when the clock never started).

    `measure` returns the last one; the history matters for NEXT_REPLY and PERIODIC_UPDATE, where a late reply
    closes a breached cycle and a new cycle starts at once.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    clock_calendar = _clock_calendar(target, calendar)
    timeline = _timeline(facts, now, paused_statuses)
    return [
        _measure_cycle(
            target=target,
            calendar=clock_calendar,
            timeline=timeline,
            cycle=number,
            start=start,
            fulfilled_at=fulfilled_at,
            now=now,
        )
        for number, (start, fulfilled_at) in enumerate(_cycles(target.metric, timeline), start=1)
    ]


def measure(
    *,
    target: Target,
    facts: Sequence[Fact],
    calendar: BusinessCalendar,
    now: dt.datetime,
    paused_statuses: frozenset[str] = DEFAULT_PAUSED_STATUSES,
) -> Measurement:
    """The state of `target`'s clock (its current cycle) at `now`, given the ticket's facts.

    A clock that has not started (no "created" fact; no customer message waiting for a next reply; no public reply
    yet for a periodic update) is returned with cycle 0 and everything else empty.
    """
    cycles = measure_cycles(target=target, facts=facts, calendar=calendar, now=now, paused_statuses=paused_statuses)
    if cycles:
        return cycles[-1]
    return Measurement(
        metric=target.metric,
        cycle=0,
        started_at=None,
        due_at=None,
        fulfilled_at=None,
        breached_at=None,
        paused=False,
        elapsed=dt.timedelta(0),
        remaining=None,
        warnings=(),
    )


def measure_all(
    *,
    targets: Iterable[Target],
    facts: Sequence[Fact],
    calendar: BusinessCalendar,
    now: dt.datetime,
    paused_statuses: frozenset[str] = DEFAULT_PAUSED_STATUSES,
) -> list[Measurement]:
    """`measure` for every target, in the targets' order."""
    return [
        measure(target=t, facts=facts, calendar=calendar, now=now, paused_statuses=paused_statuses) for t in targets
    ]


def next_check(measurements: Iterable[Measurement], now: dt.datetime) -> dt.datetime | None:
    """The earliest warning or due time after `now` of the running clocks: when the scanner must look again.

    Paused, stopped and fulfilled clocks have none (a fact that resumes them triggers a new measurement).
    """
    soonest: dt.datetime | None = None
    for m in measurements:
        if m.due_at is None or m.fulfilled_at is not None:
            continue
        for instant in (m.due_at, *(w.at for w in m.warnings)):
            if instant > now and (soonest is None or instant < soonest):
                soonest = instant
    return soonest
