"""Applying service levels to a ticket: match the policy, read the ticket's facts, measure every target with the
pure clock (`sla.domain.clock`), store the clocks, and keep the ticket's SLA columns (due, state, next check) true.

`sla_apply` writes nothing that fires: it returns what is due (warnings, breaches, escalation levels not yet fired)
and the scanner (`services.scan`) fires them. A clock is recomputed from the facts every time (no timers, no
incremental state), so running it twice, late or out of order gives the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.time import now as current_time
from pivotdesk.sla.calendars import always_open
from pivotdesk.sla.domain import clock, status
from pivotdesk.sla.models import (
    ClockState,
    EscalationLevel,
    FiringKind,
    SLAFiring,
    SLAOutcome,
    SLAPolicy,
    SLATarget,
    TicketSLA,
    year_span,
)
from pivotdesk.sla.services.matching import (
    WorkspaceConfig,
    calendar_row_for,
    match_policy,
)
from pivotdesk.sla.services.records import (
    SLA_ACTOR,
    OutcomeWrites,
    Timeline,
    record_changes,
    record_outcomes,
)
from pivotdesk.tickets.models import AuthorType, Message, MessageKind, Status, Ticket, TicketEvent
from pivotdesk.tickets.services.timeline import record

CLOSED_STATUSES = frozenset({Status.SOLVED, Status.CLOSED})


@dataclass(frozen=True)
class DueFiring:
    """A warning, breach or escalation level whose time has come and that has not fired yet."""

    kind: str
    metric: str
    cycle: int
    label: str
    at: dt.datetime
    due_at: dt.datetime | None
    level: EscalationLevel | None = None

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.metric, self.cycle, self.kind, self.label)


@dataclass
class SlaResult:
    """What `sla_apply` found: the policy, the clocks, what is due now, and when to look next."""

    ticket: Ticket
    policy: SLAPolicy | None
    clocks: dict[str, TicketSLA] = field(default_factory=dict)
    measurements: list[clock.Measurement] = field(default_factory=list)
    due: list[DueFiring] = field(default_factory=list)
    next_at: dt.datetime | None = None
    time_zone: str = "Asia/Shanghai"


# --- facts ------------------------------------------------------------------------------------------------------


_RANK = {"created": 0, "status": 1, "reopened": 2, "customer_message": 3, "agent_public_reply": 4}


def clock_facts(ticket: Ticket) -> list[clock.Fact]:
    """The ticket's history as clock facts, in time order: creation (with the initial status), public customer
    messages, public agent replies, status changes, and reopenings (solved/closed → another status). Messages that
    a merge moved here from before this ticket existed are left out: the survivor keeps its own clocks."""
    created = ticket.created_at
    facts: list[clock.Fact] = [clock.Fact(at=created, kind="created")]
    statuses = list(
        TicketEvent.objects.filter(ticket=ticket, verb="status_changed")
        .order_by("created_at", "pk")
        .values_list("created_at", "old_value", "new_value")
    )
    initial = str(statuses[0][1]) if statuses and statuses[0][1] else ticket.status
    facts.append(clock.Fact(at=created, kind="status", status=initial))
    for at, old, new in statuses:
        facts.append(clock.Fact(at=at, kind="status", status=str(new or "")))
        if old in CLOSED_STATUSES and new not in CLOSED_STATUSES:
            facts.append(clock.Fact(at=at, kind="reopened", status=str(new or "")))
    messages = Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC, created_at__gte=created).values_list(
        "created_at", "author_type"
    )
    for at, author in messages:
        if author == AuthorType.CONTACT:
            facts.append(clock.Fact(at=at, kind="customer_message"))
        elif author == AuthorType.AGENT:
            facts.append(clock.Fact(at=at, kind="agent_public_reply"))
    facts.sort(key=lambda f: (f.at, _RANK[f.kind]))
    return facts


def domain_target(target: SLATarget) -> clock.Target:
    """A stored target as the pure clock's Target."""
    return clock.Target(
        metric=clock.Metric(target.metric),
        minutes=target.minutes,
        business_hours=target.business_hours,
        warn_at_percent=tuple(int(p) for p in target.warn_at_percent or ()),
        warn_minutes_before=tuple(int(m) for m in target.warn_minutes_before or ()),
    )


# --- the service --------------------------------------------------------------------------------------------------


def _clock_state(m: clock.Measurement) -> str:
    """fulfilled (in time or late: breached_at tells), breached (missed, not yet fulfilled), paused, running, or
    idle (not started, or stopped by solved/closed before it was met)."""
    state = m.state
    if state == "fulfilled":
        return ClockState.FULFILLED
    if m.breached_at is not None:
        return ClockState.BREACHED
    if state == "paused":
        return ClockState.PAUSED
    if state == "running":
        return ClockState.RUNNING
    return ClockState.IDLE


def _status(m: clock.Measurement, at: dt.datetime) -> status.ClockStatus:
    """The badge status of one measured clock (the same rule the ticket page applies to a stored clock)."""
    return status.clock_status(
        started=m.started_at is not None,
        fulfilled=m.fulfilled_at is not None,
        paused=m.paused,
        due_at=m.due_at,
        breached=m.breached_at is not None,
        warned=any(w.at <= at for w in m.warnings),
    )


def _ticket_state(measurements: list[clock.Measurement], at: dt.datetime) -> tuple[str, dt.datetime | None]:
    """The ticket's badge state and nearest running deadline over its clocks (`sla.domain.status`)."""
    summary = status.ticket_status(_status(m, at) for m in measurements)
    return summary.state, summary.due_at


def recorded_breaches(
    firings: list[tuple[str, int, str, str, dt.datetime | None, dt.datetime]],
    outcomes: dict[tuple[str, int], tuple[Any, ...]],
) -> dict[tuple[str, int], dt.datetime]:
    """(metric, cycle) → breach instant of every cycle whose breach was recorded: its breach firing, or a stored
    outcome that saw it breached. A recorded breach is a fact: re-targeting the ticket later does not undo it."""
    kept: dict[tuple[str, int], dt.datetime] = {}
    for metric, cycle, kind, _label, due_at, fired_at in firings:
        if kind == FiringKind.BREACH:
            kept[(metric, cycle)] = due_at or fired_at
    for key, stored in outcomes.items():
        if stored[1] is not None:
            kept.setdefault(key, stored[1])
    return kept


def keep_breaches(cycles: list[clock.Measurement], kept: dict[tuple[str, int], dt.datetime]) -> list[clock.Measurement]:
    """The measured cycles with their recorded breaches put back: a priority or policy change moves the target
    (the clock's due time follows the new one) but a cycle that breached stays breached, at its breach instant."""
    out = []
    for m in cycles:
        breached_at = kept.get((str(m.metric), m.cycle))
        if breached_at is not None and m.started_at is not None and m.breached_at != breached_at:
            out.append(replace(m, breached_at=breached_at.astimezone(m.started_at.tzinfo)))
        else:
            out.append(m)
    return out


def _clear(ticket: Ticket, old: dict[str, TicketSLA], reason: str) -> SlaResult:
    """Remove the ticket's clocks and SLA columns; a removed policy goes on the timeline with the reason."""
    if old:
        old_policy = next((c.policy for c in old.values() if c.policy_id), None)
        TicketSLA.objects.filter(ticket=ticket).delete()
        if old_policy is not None and reason:
            record(
                ticket=ticket,
                actor=SLA_ACTOR,
                verb="sla_policy_changed",
                field="sla_policy",
                old={"id": old_policy.pk, "name": old_policy.name},
                new=None,
                data={"text": f"SLA policy {old_policy.name} → none ({reason})"},
            )
    if (ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at) != (None, "", None):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=None, sla_state="", sla_next_check_at=None)
    ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at = None, "", None
    return SlaResult(ticket=ticket, policy=None)


def _due_and_next(
    measurements: list[clock.Measurement],
    levels: list[EscalationLevel],
    fired: set[tuple[str, int, str, str]],
    at: dt.datetime,
) -> tuple[list[DueFiring], dt.datetime | None]:
    due: list[DueFiring] = []
    future: list[dt.datetime] = []
    nxt = clock.next_check(measurements, at)
    if nxt is not None:
        future.append(nxt)
    for m in measurements:
        metric = str(m.metric)
        if m.state not in ("running", "paused", "stopped"):
            continue
        if m.breached_at is not None and m.breached_at <= at:
            due.append(DueFiring(FiringKind.BREACH, metric, m.cycle, "breach", m.breached_at, m.breached_at))
            if m.state == "stopped":  # solved before anyone escalated: the breach is recorded, nobody is chased
                continue
            for level in levels:
                if level.metric not in ("", metric):
                    continue
                when = m.breached_at + dt.timedelta(minutes=level.minutes_after_breach)
                if when <= at:
                    due.append(
                        DueFiring(FiringKind.ESCALATION, metric, m.cycle, str(level.level), when, m.breached_at, level)
                    )
                else:
                    future.append(when)
            continue
        if m.state == "stopped":
            continue
        for w in m.warnings:
            if w.at <= at:
                due.append(DueFiring(FiringKind.WARNING, metric, m.cycle, w.label[:32], w.at, m.due_at))
    due = [d for d in due if d.key not in fired]
    due.sort(key=lambda d: (d.at, d.kind != FiringKind.BREACH))
    return due, min(future, default=None)


def sla_apply(*, actor: Actor, ticket: Ticket, now: dt.datetime | None = None) -> SlaResult:
    """Recompute a ticket's SLA clocks at `now`: match the policy, measure each target of the ticket's priority,
    upsert one TicketSLA row per metric, record finished cycles, write policy/target changes on the timeline (old
    and new), and set the ticket's sla_due_at / sla_state / sla_next_check_at. Returns what is due to fire.
    Only the system runs it (the SLA tasks)."""
    authorize_system(actor)
    with transaction.atomic():
        return apply_in_transaction(ticket=ticket, now=now)


LOCK_RELATED = ("requester__organization", "organization", "workspace")


def apply_in_transaction(
    *,
    ticket: Ticket,
    now: dt.datetime | None = None,
    config: WorkspaceConfig | None = None,
    timeline: Timeline | None = None,
    locked: bool = False,
    firing: bool = False,
) -> SlaResult:
    """`sla_apply` for a caller that holds a transaction already (the scanner: no extra savepoint).

    The scanner passes the ticket it has locked already (`locked`, loaded with LOCK_RELATED), its batch's
    `config`, its `timeline` (flushed by the scanner), and `firing`: it fires what is due itself, so the ticket's
    next check is set to the next future moment at once instead of "now"."""
    at = now or current_time()
    if not locked:
        # The row lock serialises two recomputations of one ticket (an event's task and the scanner) on
        # PostgreSQL; SQLite serialises writers anyway.
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related(*LOCK_RELATED).get(pk=ticket.pk)
    config = config or WorkspaceConfig(ticket.workspace_id)
    own_timeline = timeline is None
    entries = timeline if timeline is not None else Timeline()
    old = {c.metric: c for c in TicketSLA.objects.filter(ticket=ticket).select_related("policy")}
    if ticket.merged_into_id is not None:
        return _clear(ticket, old, "merged into another ticket")
    policy = match_policy(ticket, config)
    if policy is None:
        return _clear(ticket, old, "no policy matches")
    targets = config.targets(policy, ticket.priority)
    cal_row = calendar_row_for(ticket=ticket, policy=policy, config=config)
    time_zone = cal_row.time_zone if cal_row is not None else ticket.workspace.time_zone
    business = cal_row.to_domain(year_span(ticket.created_at, at)) if cal_row is not None else None
    facts = clock_facts(ticket)
    paused = frozenset(str(s) for s in policy.paused_statuses or ())
    measurements: list[clock.Measurement] = []
    rows: dict[str, TicketSLA] = {}
    before = {metric: (row.target_minutes, row.business_hours, row.due_at) for metric, row in old.items()}
    old_policy = next((c.policy for c in old.values() if c.policy is not None), None)
    known_outcomes: dict[tuple[str, int], tuple[Any, ...]] = {
        (metric, cycle): (fulfilled, breached, policy_id, priority, pk, due)
        for metric, cycle, fulfilled, breached, policy_id, priority, pk, due in SLAOutcome.objects.filter(
            ticket=ticket
        ).values_list("metric", "cycle", "fulfilled_at", "breached_at", "policy_id", "priority", "pk", "due_at")
    }
    outcomes = OutcomeWrites()
    firings = list(
        SLAFiring.objects.filter(ticket=ticket).values_list("metric", "cycle", "kind", "label", "due_at", "fired_at")
    )
    kept = recorded_breaches(firings, known_outcomes)
    for target in targets:
        calendar = business if (target.business_hours and business is not None) else always_open(time_zone)
        cycles = keep_breaches(
            clock.measure_cycles(
                target=domain_target(target), facts=facts, calendar=calendar, now=at, paused_statuses=paused
            ),
            kept,
        )
        m = cycles[-1] if cycles else clock.measure(target=domain_target(target), facts=(), calendar=calendar, now=at)
        measurements.append(m)
        rows[target.metric] = _clock_row(
            ticket=ticket, policy=policy, target=target, m=m, row=old.get(target.metric), at=at
        )
        record_outcomes(
            ticket=ticket, policy=policy, target=target, cycles=cycles, known=known_outcomes, writes=outcomes
        )
    _save_clocks(rows, at)
    outcomes.save(ticket)
    stale = set(old) - set(rows)
    if stale:
        TicketSLA.objects.filter(ticket=ticket, metric__in=stale).delete()
    record_changes(
        ticket=ticket,
        policy=policy,
        old_policy=old_policy,
        old=old,
        before=before,
        rows=rows,
        time_zone=time_zone,
        at=at,
        timeline=entries,
    )
    if own_timeline:
        entries.flush()
    fired = {(metric, cycle, kind, label) for metric, cycle, kind, label, _due, _at in firings}
    due, next_at = _due_and_next(measurements, config.levels(policy), fired, at)
    state, due_at = _ticket_state(measurements, at)
    next_check = at if (due and not firing) else next_at
    if (ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at) != (due_at, state, next_check):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due_at, sla_state=state, sla_next_check_at=next_check)
    ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at = due_at, state, next_check
    return SlaResult(
        ticket=ticket,
        policy=policy,
        clocks=rows,
        measurements=measurements,
        due=due,
        next_at=next_at,
        time_zone=time_zone,
    )


CLOCK_FIELDS = (
    "policy",
    "cycle",
    "target_minutes",
    "business_hours",
    "started_at",
    "due_at",
    "fulfilled_at",
    "breached_at",
    "paused",
    "elapsed_seconds",
    "state",
    "computed_at",
)


def _clock_row(
    *,
    ticket: Ticket,
    policy: SLAPolicy,
    target: SLATarget,
    m: clock.Measurement,
    row: TicketSLA | None,
    at: dt.datetime,
) -> TicketSLA:
    """The clock's row with the measurement's values (saved by `_save_clocks`, all rows together)."""
    values: dict[str, Any] = {
        "policy": policy,
        "cycle": m.cycle,
        "target_minutes": target.minutes,
        "business_hours": target.business_hours,
        "started_at": m.started_at,
        "due_at": m.due_at,
        "fulfilled_at": m.fulfilled_at,
        "breached_at": m.breached_at,
        "paused": m.paused,
        "elapsed_seconds": max(0, int(m.elapsed.total_seconds())),
        "state": _clock_state(m),
        "computed_at": at,
    }
    if row is None:
        return TicketSLA(workspace_id=ticket.workspace_id, ticket=ticket, metric=target.metric, **values)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def _save_clocks(rows: dict[str, TicketSLA], at: dt.datetime) -> None:
    """Insert the new clocks and update the others: one statement each (not one per metric)."""
    new = [row for row in rows.values() if row.pk is None]
    existing = [row for row in rows.values() if row.pk is not None]
    stamp = current_time()
    if new:
        for row in new:
            row.created_at = row.updated_at = stamp
        TicketSLA.objects.bulk_create(new)
    if existing:
        for row in existing:
            row.updated_at = stamp  # bulk_update does not apply auto_now
        TicketSLA.objects.bulk_update(existing, [*CLOCK_FIELDS, "updated_at"])


def sla_clear(*, actor: Actor, ticket: Ticket) -> None:
    """Remove a ticket's clocks (a merged-away ticket); its finished outcomes stay for reports. System only."""
    authorize_system(actor)
    with transaction.atomic():
        old = {c.metric: c for c in TicketSLA.objects.filter(ticket=ticket).select_related("policy")}
        _clear(ticket, old, "merged into another ticket")
