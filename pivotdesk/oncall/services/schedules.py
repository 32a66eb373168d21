"""On-call schedules: configuration (gated by Perm.ROUTING_MANAGE: supervisors pick people) and the one answer to
"who is on call for schedule S at t" (`on_call_agent`), computed by the pure `domain.schedule`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.oncall.domain import schedule as domain
from pivotdesk.oncall.errors import OncallErrorCode
from pivotdesk.oncall.models import OnCallLayer, OnCallOverride, OnCallSchedule, RestrictionKind, TurnKind


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=workspace_id)


def _invalid(message: str, field: str = "") -> ValidationFailed:
    return ValidationFailed(message, code=OncallErrorCode.INVALID_VALUE, details={field: "invalid"} if field else None)


def schedule_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    time_zone: str = "Asia/Shanghai",
    schedule: OnCallSchedule | None = None,
) -> OnCallSchedule:
    _require(actor, workspace.pk)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise _invalid(gettext("A name of 1 to 120 characters is required."), "name")
    try:
        domain.zone_named(time_zone)
    except (ValueError, KeyError) as exc:
        raise _invalid(gettext("Unknown time zone “%(value)s”.") % {"value": time_zone}, "time_zone") from exc
    row = schedule or OnCallSchedule(workspace=workspace)
    row.name, row.time_zone = name, time_zone
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            gettext("That name is already used."), code=OncallErrorCode.DUPLICATE_NAME, details={"name": "taken"}
        ) from exc
    return row


def _domain_layer(layer: OnCallLayer) -> domain.Layer:
    if layer.turn_kind == TurnKind.DAILY:
        turn = domain.Turn.daily()
    elif layer.turn_kind == TurnKind.WEEKLY:
        turn = domain.Turn.weekly()
    else:
        turn = domain.Turn.hours(layer.turn_hours)
    restrictions: list[Any] = []
    spec = layer.restriction or {}
    if layer.restriction_kind == RestrictionKind.DAILY:
        restrictions = [domain.DailyWindow.parse(f"{a}-{b}") for a, b in spec.get("windows", [])]
    elif layer.restriction_kind == RestrictionKind.WEEKLY:
        restrictions = [domain.WeeklyWindow.parse(str(w)) for w in spec.get("windows", [])]
    elif layer.restriction_kind == RestrictionKind.NON_WORKING:
        restrictions = [domain.NON_WORKING_DAYS]
    elif layer.restriction_kind == RestrictionKind.WORKING:
        restrictions = [domain.WORKING_DAYS]
    return domain.Layer(
        participants=tuple(int(p) for p in layer.participants),
        rotation_start=layer.start.replace(tzinfo=None),
        turn=turn,
        restrictions=tuple(restrictions),
        name=layer.name,
    )


def layer_save(
    *,
    actor: Actor,
    schedule: OnCallSchedule,
    participants: list[int],
    start: dt.datetime,
    turn_kind: str = TurnKind.WEEKLY,
    turn_hours: int = 24,
    restriction_kind: str = RestrictionKind.NONE,
    restriction: dict[str, Any] | None = None,
    name: str = "",
    position: int | None = None,
    layer: OnCallLayer | None = None,
) -> OnCallLayer:
    """Add or change a rotation. `start` is the local wall-clock time of the first handoff (naive)."""
    _require(actor, schedule.workspace_id)
    ids = [int(p) for p in participants]
    known = set(
        AgentProfile.objects.filter(workspace_id=schedule.workspace_id, pk__in=ids).values_list("pk", flat=True)
    )
    if not ids or set(ids) - known:
        raise _invalid(gettext("Choose one or more agents of this workspace, in order."), "participants")
    if turn_kind not in TurnKind.values or restriction_kind not in RestrictionKind.values:
        raise _invalid(gettext("Unknown rotation or restriction kind."), "turn_kind")
    row = layer or OnCallLayer(workspace_id=schedule.workspace_id, schedule=schedule)
    row.participants = ids
    row.start = start.replace(tzinfo=None) if start.tzinfo is not None else start
    row.turn_kind, row.turn_hours = turn_kind, max(1, int(turn_hours))
    row.restriction_kind, row.restriction = restriction_kind, restriction or {}
    row.name = (name or "")[:120]
    if position is not None:
        row.position = position
    elif row.pk is None:
        row.position = schedule.layers.count()
    try:
        _domain_layer(row)
    except ValueError as exc:
        raise _invalid(gettext("This rotation is not valid: %(problem)s") % {"problem": exc}, "restriction") from exc
    row.start = row.start.replace(tzinfo=dt.UTC)  # stored as the wall-clock numbers (see the model)
    row.save()
    return row


def override_create(
    *, actor: Actor, schedule: OnCallSchedule, agent: AgentProfile, start: dt.datetime, end: dt.datetime, note: str = ""
) -> OnCallOverride:
    """Someone covers part of a schedule: oneself (SELF_MANAGE), or anyone for a supervisor."""
    own = actor.is_agent(agent.pk)
    authorize(actor, Perm.SELF_MANAGE if own else Perm.ROUTING_MANAGE, workspace_id=schedule.workspace_id)
    if agent.workspace_id != schedule.workspace_id:
        raise ValidationFailed(
            gettext("That agent belongs to another workspace."), code=OncallErrorCode.WRONG_WORKSPACE
        )
    if start is None or end is None or end <= start or end - start > dt.timedelta(days=31):
        raise ValidationFailed(
            gettext("An override ends after it starts and lasts at most 31 days."), code=OncallErrorCode.INVALID_PERIOD
        )
    return OnCallOverride.objects.create(
        workspace_id=schedule.workspace_id, schedule=schedule, agent=agent, start=start, end=end, note=note[:200]
    )


def domain_schedule(schedule: OnCallSchedule) -> domain.Schedule:
    return domain.Schedule(
        time_zone=schedule.time_zone,
        layers=tuple(_domain_layer(layer) for layer in schedule.layers.order_by("position", "pk")),
        overrides=tuple(
            domain.Override(start=o.start, end=o.end, participant=o.agent_id)
            for o in schedule.overrides.filter(end__gt=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        ),
    )


def working_day_predicate(schedule: OnCallSchedule) -> domain.WorkingDayPredicate | None:
    """Working days from the schedule's business calendar (China's holidays and make-up days), if it has one."""
    if schedule.calendar_id is None or schedule.calendar is None:
        return None
    from pivotdesk.sla.calendars import domain_calendar

    built = domain_calendar(schedule.calendar)
    return lambda day: bool(built.ranges_on(day))


def on_call_agent(schedule: OnCallSchedule, at: dt.datetime) -> int | None:
    """The agent on call for this schedule at `at` (None: nobody)."""
    found = domain.on_call(domain_schedule(schedule), at, is_working_day=working_day_predicate(schedule))
    return int(found) if found is not None else None


def timeline(schedule: OnCallSchedule, start: dt.datetime, end: dt.datetime) -> domain.Timeline:
    return domain.timeline(domain_schedule(schedule), start, end, is_working_day=working_day_predicate(schedule))
