"""SLA compliance reports: achieved share by policy, team, priority, channel and day, and the breaches with the
causes read from the ticket's history during the clock. Read-only, scoped to one workspace.

A target counts in a date range when its cycle *ended* in the range (`SLAOutcome.finished_at`: the fulfilment, or
the breach if it was breached); it is achieved when it was fulfilled without a breach.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, AgentStatus, Workspace
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.sla.models import DEFAULT_PAUSED_STATUSES, Metric, SLAOutcome
from pivotdesk.tickets.models import TicketEvent

DEFAULT_DAYS = 30
MAX_DAYS = 366
BREACH_LIMIT = 200
DIMENSIONS = ("policy", "team", "priority", "channel", "metric")
_GROUP_FIELD = {
    "policy": "policy_name",
    "team": "team__name",
    "priority": "priority",
    "channel": "channel",
    "metric": "metric",
}


@dataclass(frozen=True)
class DateRange:
    """Local dates [start, end] (both included) in a time zone, and the instants they span."""

    start: dt.date
    end: dt.date
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=self.zone)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @classmethod
    def parse(cls, start: str | None, end: str | None, *, time_zone: str, today: dt.date | None = None) -> DateRange:
        """From form input ("2026-11-01"); defaults to the last 30 days up to today. Bad input → ValidationFailed."""
        today = today or now().astimezone(ZoneInfo(time_zone)).date()
        try:
            end_date = dt.date.fromisoformat(end) if end else today
            start_date = dt.date.fromisoformat(start) if start else end_date - dt.timedelta(days=DEFAULT_DAYS - 1)
        except ValueError as exc:
            raise ValidationFailed(_("Dates are written like 2026-11-01."), details={"range": "YYYY-MM-DD"}) from exc
        if start_date > end_date:
            raise ValidationFailed(_("The range starts after it ends."), details={"range": "start <= end"})
        if (end_date - start_date).days >= MAX_DAYS:
            raise ValidationFailed(
                _("A report covers at most %(n)d days.") % {"n": MAX_DAYS}, details={"range": f"<= {MAX_DAYS}"}
            )
        return cls(start=start_date, end=end_date, time_zone=time_zone)


@dataclass(frozen=True)
class Share:
    """Achieved among counted targets."""

    key: str
    total: int
    achieved: int

    @property
    def breached(self) -> int:
        return self.total - self.achieved

    @property
    def percent(self) -> float | None:
        """Rounded to one decimal; None when nothing was counted (not 0 % and not 100 %)."""
        return round(100 * self.achieved / self.total, 1) if self.total else None


@dataclass
class ComplianceReport:
    """Everything the report page shows above the breach list."""

    period: DateRange
    overall: Share
    by: dict[str, list[Share]] = field(default_factory=dict)
    daily: list[tuple[dt.date, Share]] = field(default_factory=list)


def outcomes(*, workspace: Workspace, period: DateRange, metric: str = "") -> QuerySet[SLAOutcome]:
    """The targets counted in the range (cycles that ended in it), scoped to the workspace."""
    if metric and metric not in Metric.values:
        raise ValidationFailed(
            _("Unknown metric “%(metric)s”.") % {"metric": metric}, details={"metric": Metric.values}
        )
    qs = SLAOutcome.objects.filter(workspace=workspace, finished_at__gte=period.since, finished_at__lt=period.until)
    return qs.filter(metric=metric) if metric else qs


def _counts(qs: QuerySet[SLAOutcome], group: str | None) -> Iterable[dict[str, Any]]:
    agg = {"total": Count("pk"), "achieved_n": Count("pk", filter=Q(achieved=True))}
    if group is None:
        return [qs.aggregate(**agg)]
    return list(qs.order_by().values(group).annotate(**agg))


def compliance(*, workspace: Workspace, period: DateRange, metric: str = "") -> ComplianceReport:
    """Compliance overall, by each dimension (worst first) and per local day of the range."""
    qs = outcomes(workspace=workspace, period=period, metric=metric)
    row = next(iter(_counts(qs, None)))
    report = ComplianceReport(
        period=period, overall=Share(key="all", total=row["total"] or 0, achieved=row["achieved_n"] or 0)
    )
    for dimension in DIMENSIONS:
        name = _GROUP_FIELD[dimension]
        shares = [Share(key=r[name] or "", total=r["total"], achieved=r["achieved_n"]) for r in _counts(qs, name)]
        report.by[dimension] = sorted(shares, key=lambda s: (s.percent if s.percent is not None else 101, s.key))
    per_day = {
        r["day"]: r
        for r in qs.annotate(day=TruncDate("finished_at", tzinfo=period.zone))
        .order_by()
        .values("day")
        .annotate(total=Count("pk"), achieved_n=Count("pk", filter=Q(achieved=True)))
    }
    for day in period.days():
        r = per_day.get(day)
        report.daily.append(
            (day, Share(key=day.isoformat(), total=r["total"] if r else 0, achieved=r["achieved_n"] if r else 0))
        )
    return report


# --- breaches and their causes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """One reason a target was missed, as data (the UI words it): kind, a duration, a name, a time."""

    kind: str  # unassigned | paused | reassigned | assignee_away | status_path | late | still_open
    seconds: float | None = None
    name: str = ""
    count: int = 0
    at: dt.datetime | None = None
    path: tuple[tuple[str, float], ...] = ()


@dataclass
class Breach:
    """A missed target with its ticket and what happened during its clock."""

    outcome: SLAOutcome
    late_seconds: float | None
    fulfilled: bool
    causes: list[Cause]

    @property
    def due_at(self) -> dt.datetime | None:
        """The missed due time: a clock breaches when its due time passes, so a breach always has one."""
        return breach_due(self.outcome)


def breach_due(outcome: SLAOutcome) -> dt.datetime | None:
    """An outcome's due time; for a breach stored without one (rows written before due times were kept on
    fulfilment), its breach instant, which is the same moment."""
    return outcome.due_at or outcome.breached_at


def _segments(
    changes: list[tuple[dt.datetime, Any]], initial: Any, start: dt.datetime, end: dt.datetime
) -> list[tuple[Any, float]]:
    """Values of a field over [start, end) as (value, seconds) in order, from its change events."""
    value = initial
    for at, new in changes:
        if at <= start:
            value = new
    out: list[tuple[Any, float]] = []
    cursor = start
    for at, new in changes:
        if at <= start:
            continue
        if at >= end:
            break
        out.append((value, (at - cursor).total_seconds()))
        value, cursor = new, at
    out.append((value, (end - cursor).total_seconds()))
    merged: list[tuple[Any, float]] = []
    for value, seconds in out:
        if merged and merged[-1][0] == value:
            merged[-1] = (value, merged[-1][1] + seconds)
        elif seconds > 0 or not merged:
            merged.append((value, seconds))
    return merged


def _value_at(changes: list[tuple[dt.datetime, Any]], initial: Any, at: dt.datetime) -> Any:
    """A field's value at an instant, from its change events."""
    value = initial
    for when, new in changes:
        if when > at:
            break
        value = new
    return value


def causes_for(
    *,
    outcome: SLAOutcome,
    events: list[TicketEvent],
    agents: dict[int, AgentProfile],
    paused_statuses: Iterable[str],
    at: dt.datetime,
) -> tuple[list[Cause], float | None, bool]:
    """Why a target was missed, from the ticket's timeline during its clock [started_at, fulfilled or now].
    Returns (causes, seconds late, fulfilled?)."""
    start = outcome.started_at or outcome.due_at or outcome.finished_at
    fulfilled = outcome.fulfilled_at is not None
    end = outcome.fulfilled_at or at
    end = max(end, start)
    statuses = [(e.created_at, e.new_value) for e in events if e.verb == "status_changed"]
    first_status = next((e.old_value for e in events if e.verb == "status_changed"), "new")
    assignees = [(e.created_at, (e.new_value or {}).get("id")) for e in events if e.verb == "assigned"]
    first_assignee = next(((e.old_value or {}).get("id") for e in events if e.verb == "assigned"), None)
    if not assignees and outcome.ticket.assignee_id is not None:
        first_assignee = outcome.ticket.assignee_id  # assigned at creation: no event
    status_path = _segments(statuses, first_status, start, end)
    owner_path = _segments(assignees, first_assignee, start, end)
    causes: list[Cause] = []
    unassigned = sum(s for who, s in owner_path if who is None)
    if unassigned >= 60:
        causes.append(Cause(kind="unassigned", seconds=unassigned))
    paused = set(paused_statuses)
    causes.append(Cause(kind="paused", seconds=sum(s for st, s in status_path if st in paused)))
    owners = [who for who, _ in owner_path if who is not None]
    if len(owners) >= 2:
        causes.append(Cause(kind="reassigned", count=len(owners) - 1))
    due = breach_due(outcome)
    owner_at_due = _value_at(assignees, first_assignee, due) if due is not None else None
    agent = agents.get(owner_at_due) if owner_at_due is not None else None
    if (
        agent is not None
        and agent.status != AgentStatus.ONLINE
        and agent.status_changed_at is not None
        and due is not None
        and agent.status_changed_at <= due
    ):
        causes.append(Cause(kind="assignee_away", name=agent.name, at=agent.status_changed_at))
    causes.append(Cause(kind="status_path", path=tuple((str(st), s) for st, s in status_path)))
    late = (end - due).total_seconds() if due is not None else None
    causes.append(Cause(kind="late" if fulfilled else "still_open", seconds=late))
    return causes, late, fulfilled


def breaches(*, workspace: Workspace, period: DateRange, metric: str = "", limit: int = BREACH_LIMIT) -> list[Breach]:
    """The missed targets of the range, newest first, each with its causes (three queries in all)."""
    rows = list(
        outcomes(workspace=workspace, period=period, metric=metric)
        .filter(achieved=False)
        .select_related("ticket", "policy", "team")
        .order_by("-finished_at", "-pk")[:limit]
    )
    ticket_ids = {r.ticket_id for r in rows}
    by_ticket: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, verb__in=("status_changed", "assigned"))
        .only("ticket_id", "created_at", "verb", "old_value", "new_value")
        .order_by("created_at", "pk")
    ):
        by_ticket[event.ticket_id].append(event)
    owner_ids: set[int] = set()
    for r in rows:
        if r.ticket.assignee_id:
            owner_ids.add(r.ticket.assignee_id)
    for events in by_ticket.values():
        for e in events:
            if e.verb == "assigned":
                owner_ids.update(v["id"] for v in (e.old_value, e.new_value) if isinstance(v, dict) and v.get("id"))
    agents = {
        a.pk: a for a in AgentProfile.objects.filter(workspace=workspace, pk__in=owner_ids).select_related("user")
    }
    at = now()
    out = []
    for r in rows:
        paused = r.policy.paused_statuses if r.policy is not None else DEFAULT_PAUSED_STATUSES
        causes, late, fulfilled = causes_for(
            outcome=r, events=by_ticket.get(r.ticket_id, []), agents=agents, paused_statuses=paused, at=at
        )
        out.append(Breach(outcome=r, late_seconds=late, fulfilled=fulfilled, causes=causes))
    return out


CSV_HEADER = (
    "ticket",
    "subject",
    "policy",
    "metric",
    "priority",
    "team",
    "channel",
    "target_minutes",
    "started_at",
    "due_at",
    "fulfilled_at",
    "breached_at",
    "achieved",
    "late_minutes",
)


def csv_rows(*, workspace: Workspace, period: DateRange, metric: str = "") -> Iterator[list[str]]:
    """Every counted target of the range as CSV cells (streamed in chunks: fine for large ranges)."""
    yield list(CSV_HEADER)
    qs = (
        outcomes(workspace=workspace, period=period, metric=metric)
        .select_related("ticket", "team")
        .order_by("finished_at", "pk")
    )
    for r in qs.iterator(chunk_size=2000):
        late = ""
        due = breach_due(r)
        if not r.achieved and due is not None and r.fulfilled_at is not None:
            late = str(max(1, math.ceil((r.fulfilled_at - due).total_seconds() / 60)))  # as the page: never 0
        yield [
            str(r.ticket.number),
            r.ticket.subject,
            r.policy_name,
            r.metric,
            r.priority,
            r.team.name if r.team else "",
            r.channel,
            str(r.target_minutes),
            _iso(r.started_at),
            _iso(due),
            _iso(r.fulfilled_at),
            _iso(r.breached_at),
            "yes" if r.achieved else "no",
            late,
        ]


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""
