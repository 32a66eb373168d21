"""What applying service levels writes besides the clocks: the SLA actor's timeline entries (one INSERT per batch),
policy and target changes as sentences with their data, and the finished cycles (`SLAOutcome`) for reports."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.time import now as current_time
from pivotdesk.sla.domain import clock
from pivotdesk.sla.models import (
    SLAOutcome,
    SLAPolicy,
    SLATarget,
    TicketSLA,
)
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.services import timeline

SLA_ACTOR = Actor.system("SLA")
METRIC_LABELS = {
    "first_reply": "first reply",
    "next_reply": "next reply",
    "periodic_update": "periodic update",
    "resolution": "resolution",
}


class Timeline:
    """Timeline entries of the SLA actor, written together (one INSERT) instead of one `record()` each. Every
    entry is what `tickets.services.timeline.record` would write, stamped when it is added. A caller that lets
    another service write the timeline in between (an escalation action) flushes first, so the order stays."""

    def __init__(self) -> None:
        self.events: list[TicketEvent] = []

    def add(
        self,
        *,
        ticket: Ticket,
        verb: str,
        field: str = "",
        old: Any = None,
        new: Any = None,
        data: dict[str, Any] | None = None,
    ) -> TicketEvent:
        event = timeline.build(ticket=ticket, actor=SLA_ACTOR, verb=verb, field=field, old=old, new=new, data=data)
        self.events.append(event)
        return event

    def flush(self) -> None:
        if self.events:
            TicketEvent.objects.bulk_create(self.events)
            self.events = []


def local_time(at: dt.datetime | None, time_zone: str, *, reference: dt.datetime | None = None) -> str:
    """ "14:00" (or "03-02 14:00" on another day than `reference`) in the given time zone."""
    if at is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = at.astimezone(zone)
    if reference is not None and reference.astimezone(zone).date() == local.date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def record_changes(
    *,
    ticket: Ticket,
    policy: SLAPolicy,
    old_policy: SLAPolicy | None,
    old: dict[str, TicketSLA],
    before: dict[str, tuple[int, bool, dt.datetime | None]],
    rows: dict[str, TicketSLA],
    time_zone: str,
    at: dt.datetime,
    timeline: Timeline,
) -> None:
    """A changed policy, or a changed promise (minutes, business/calendar hours), goes on the timeline with old
    and new. A due time that only moved because the clock paused is not a change of promise and is not recorded.
    A ticket's first clocks are one entry: "SLA policy → VIP" with every target and its due time."""
    if not old:
        if rows:
            record_applied(ticket=ticket, policy=policy, rows=rows, time_zone=time_zone, at=at, timeline=timeline)
        return
    if old_policy is None or old_policy.pk != policy.pk:
        old_name = old_policy.name if old_policy is not None else "none"
        timeline.add(
            ticket=ticket,
            verb="sla_policy_changed",
            field="sla_policy",
            old={"id": old_policy.pk, "name": old_policy.name} if old_policy is not None else None,
            new={"id": policy.pk, "name": policy.name},
            data={"text": f"SLA policy {old_name} → {policy.name}"},
        )
    for metric in sorted(set(old) | set(rows)):
        label = METRIC_LABELS.get(metric, metric)
        prev = before.get(metric)
        new_row = rows.get(metric)
        if new_row is None:
            gone = old[metric]
            text = f"{label} target removed (was {gone.target_minutes} min, due {local_time(gone.due_at, time_zone)})"
            timeline.add(
                ticket=ticket,
                verb="sla_target_changed",
                field=metric,
                old={"minutes": gone.target_minutes, "due_at": _iso(gone.due_at)},
                new=None,
                data={"text": text},
            )
            continue
        if prev is None:
            text = f"{label} target {new_row.target_minutes} min, due {local_time(new_row.due_at, time_zone)}"
            timeline.add(
                ticket=ticket,
                verb="sla_target_changed",
                field=metric,
                old=None,
                new={"minutes": new_row.target_minutes, "due_at": _iso(new_row.due_at)},
                data={"text": text},
            )
            continue
        old_minutes, old_business, old_due_at = prev
        if (old_minutes, old_business) == (new_row.target_minutes, new_row.business_hours):
            continue
        old_due = local_time(old_due_at, time_zone, reference=at)
        new_due = local_time(new_row.due_at, time_zone, reference=at)
        timeline.add(
            ticket=ticket,
            verb="sla_target_changed",
            field=metric,
            old={"minutes": old_minutes, "due_at": _iso(old_due_at)},
            new={"minutes": new_row.target_minutes, "due_at": _iso(new_row.due_at)},
            data={"text": f"{label} due {old_due} → {new_due}"},
        )


METRIC_ORDER = ("first_reply", "next_reply", "periodic_update", "resolution")


def record_applied(
    *,
    ticket: Ticket,
    policy: SLAPolicy,
    rows: dict[str, TicketSLA],
    time_zone: str,
    at: dt.datetime,
    timeline: Timeline,
) -> None:
    """One entry when a ticket gets its first clocks: the policy and its targets (minutes, business or calendar
    hours, due time), in the metrics' natural order."""
    ordered = sorted(rows.values(), key=lambda r: METRIC_ORDER.index(r.metric) if r.metric in METRIC_ORDER else 9)
    targets = [
        {
            "metric": row.metric,
            "minutes": row.target_minutes,
            "business_hours": row.business_hours,
            "due_at": _iso(row.due_at),
        }
        for row in ordered
    ]
    parts = [
        f"{METRIC_LABELS.get(row.metric, row.metric)} {row.target_minutes} min"
        + ("" if row.due_at is None else f" (due {local_time(row.due_at, time_zone, reference=at)})")
        for row in ordered
    ]
    timeline.add(
        ticket=ticket,
        verb="sla_policy_changed",
        field="sla_policy",
        old=None,
        new={"id": policy.pk, "name": policy.name, "targets": targets},
        data={"text": f"SLA policy → {policy.name}: " + ", ".join(parts)},
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class OutcomeWrites:
    """Outcome rows to insert, update and delete for one ticket, written with one statement each."""

    FIELDS = (
        "policy",
        "policy_name",
        "priority",
        "team_id",
        "channel",
        "target_minutes",
        "started_at",
        "due_at",
        "fulfilled_at",
        "breached_at",
        "achieved",
        "finished_at",
    )

    def __init__(self) -> None:
        self.new: list[SLAOutcome] = []
        self.changed: list[SLAOutcome] = []
        self.gone: list[int] = []
        self.frozen: list[SLAOutcome] = []  # recorded breaches: only fulfilled_at (and a missing due) change

    def save(self, ticket: Ticket) -> None:
        stamp = current_time()
        if self.gone:
            SLAOutcome.objects.filter(ticket=ticket, pk__in=self.gone).delete()
        if self.new:
            for row in self.new:
                row.created_at = row.updated_at = stamp
            SLAOutcome.objects.bulk_create(self.new)
        if self.changed:
            for row in self.changed:
                row.updated_at = stamp  # bulk_update does not apply auto_now
            SLAOutcome.objects.bulk_update(self.changed, [*self.FIELDS, "updated_at"])
        if self.frozen:
            for row in self.frozen:
                row.updated_at = stamp
            SLAOutcome.objects.bulk_update(self.frozen, ["fulfilled_at", "due_at", "updated_at"])


def record_outcomes(
    *,
    ticket: Ticket,
    policy: SLAPolicy,
    target: SLATarget,
    cycles: list[clock.Measurement],
    known: dict[tuple[str, int], tuple[Any, ...]],
    writes: OutcomeWrites,
) -> None:
    """Finished cycles (achieved, or breached) for compliance reports, one row per cycle. A breached cycle
    fulfilled late gets its fulfilment time; a resolution reopened before it breached is unfinished again.

    A breached cycle's due time is its breach instant (a clock breaches when its due time passes while it runs), so
    a breach always has its due time, also once fulfilled (the clock then has none). A stored breach keeps its
    policy, priority, target and due time when the ticket is re-targeted later: only a late fulfilment is added.
    `known` holds the stored rows' (fulfilled_at, breached_at, policy_id, priority, pk, due_at): unchanged rows are
    not rewritten, so a recheck of a quiet ticket writes nothing here."""
    for m in cycles:
        key = (target.metric, m.cycle)
        finished = m.breached_at or m.fulfilled_at
        stored = known.get(key)
        if finished is None:
            if stored is not None:
                writes.gone.append(stored[4])
            continue
        due_at = m.breached_at if m.breached_at is not None else m.due_at
        if stored is not None and stored[1] is not None and m.breached_at is not None:
            if (stored[0], stored[5]) != (m.fulfilled_at, stored[1]):  # a late fulfilment (or a legacy empty due)
                writes.frozen.append(SLAOutcome(pk=stored[4], fulfilled_at=m.fulfilled_at, due_at=stored[1]))
            continue
        if stored is not None and stored[:4] == (m.fulfilled_at, m.breached_at, policy.pk, ticket.priority):
            continue
        row = SLAOutcome(
            pk=stored[4] if stored is not None else None,
            ticket=ticket,
            metric=target.metric,
            cycle=m.cycle,
            workspace_id=ticket.workspace_id,
            policy=policy,
            policy_name=policy.name,
            priority=ticket.priority,
            team_id=ticket.team_id,
            channel=ticket.channel,
            target_minutes=target.minutes,
            started_at=m.started_at,
            due_at=due_at,
            fulfilled_at=m.fulfilled_at,
            breached_at=m.breached_at,
            achieved=m.breached_at is None,
            finished_at=finished,
        )
        (writes.changed if stored is not None else writes.new).append(row)
