"""Rosters: generate (CP-SAT over the staff required by the forecasts), check, publish (versioned; agents are
notified), re-plan with minimal changes, and edit shifts by form.

A roster covers whole local days from a start date. Versions of the same start date replace each other when
published; a roster overlapping another published one with a different start is refused (one plan per day).
Every roster the solver returns is validated by the independent checker (`domain.rules.check_roster`) before it
is stored; a violation there is a bug and is refused, not stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Skill, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.workforce.domain import rules
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.events import AvailabilityChanged, RosterPublished
from pivotdesk.workforce.models import (
    Roster,
    RosterStatus,
    Shift,
    ShiftKind,
    ShiftSource,
    ShiftTemplate,
    WorkforceProfile,
    WorkQueue,
)
from pivotdesk.workforce.services import forecasting
from pivotdesk.workforce.services.checks import stored
from pivotdesk.workforce.services.model import ANY_SKILL, Horizon, Setup, build

if TYPE_CHECKING:
    from pivotdesk.workforce.domain import roster as solver

MAX_DAYS = 28
LOCKED_SOURCES = (ShiftSource.SWAP, ShiftSource.PICKUP, ShiftSource.MANUAL)


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=workspace_id)


def time_limit() -> float:
    return float(getattr(settings, "PIVOTDESK_ROSTER_TIME_LIMIT_SECONDS", 30.0))


def rosterable_agents(workspace: Workspace) -> list[AgentProfile]:
    """Active agents who are rostered (everyone, unless their profile says otherwise)."""
    excluded = set(
        WorkforceProfile.objects.filter(workspace=workspace, rosterable=False).values_list("agent_id", flat=True)
    )
    return [
        a
        for a in AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user").order_by("pk")
        if a.pk not in excluded
    ]


# --- what is needed ----------------------------------------------------------------------------------------------


def requirement(workspace: Workspace, horizon: Horizon, interval: int = 30) -> dict[tuple[int, str], int]:
    """Agents to schedule per (interval of the horizon, skill), summed over the active queues' forecasts (Erlang or
    workload, with shrinkage). A queue without a skill needs agents of any skill ("*")."""
    begin, finish = horizon.bounds()
    need: dict[tuple[int, str], int] = defaultdict(int)
    for queue in WorkQueue.objects.filter(workspace=workspace, is_active=True).select_related("skill"):
        points = forecasting.forecast_points(queue, begin, finish, intraday=False)
        if not points:
            continue
        per_slot: dict[int, int] = {}
        for item in forecasting.requirement(queue, points):
            first = horizon.minute(item.start)
            span = max(queue.interval_minutes, interval)
            for minute in range(first - first % interval, first + span, interval):
                if minute < first + queue.interval_minutes:
                    index = minute // interval
                    per_slot[index] = max(per_slot.get(index, 0), item.scheduled)
        skill = queue.skill.name if queue.skill_id and queue.skill else ANY_SKILL
        for index, count in per_slot.items():
            if 0 <= index < horizon.days * 1440 // interval and count > 0:
                need[(index, skill)] += count
    return dict(need)


def _scheduled(setup: Setup, shifts: list[rules.Shift], interval: int) -> dict[tuple[int, str], int]:
    counts: dict[tuple[int, str], int] = defaultdict(int)
    templates = setup.workforce.template_by_id
    for s in shifts:
        template = templates.get(s.template)
        if template is None:
            continue
        start, end = rules.shift_span(template, s)
        lunch = (s.lunch_start, s.lunch_start + template.lunch_length) if s.lunch_start is not None else None
        for minute in range(start - start % interval, end, interval):
            if minute < start or minute + interval > end:
                continue
            if lunch is not None and minute < lunch[1] and lunch[0] < minute + interval:
                continue
            counts[(minute // interval, s.skill)] += 1
    return counts


# --- generating --------------------------------------------------------------------------------------------------


def _validate_period(workspace: Workspace, start_date: Any, days: Any) -> tuple[dt.date, int]:
    if isinstance(start_date, str):
        try:
            start_date = dt.date.fromisoformat(start_date)
        except ValueError:
            start_date = None
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not isinstance(start_date, dt.date) or not 1 <= days <= MAX_DAYS or not 2000 <= start_date.year <= 2200:
        raise ValidationFailed(
            gettext("Choose a start date and 1 to %(max)s days.") % {"max": MAX_DAYS},
            code=WorkforceErrorCode.INVALID_PERIOD,
            details={"start_date": "date", "days": f"1–{MAX_DAYS}"},
        )
    end = start_date + dt.timedelta(days=days - 1)
    clash = (
        Roster.objects.filter(
            workspace=workspace, status=RosterStatus.PUBLISHED, start_date__lte=end, end_date__gte=start_date
        )
        .exclude(start_date=start_date)
        .first()
    )
    if clash is not None:
        raise ValidationFailed(
            gettext("These days overlap the published roster %(other)s; plan from %(start)s instead.")
            % {"other": f"{clash.start_date}–{clash.end_date}", "start": clash.start_date},
            code=WorkforceErrorCode.INVALID_PERIOD,
        )
    return start_date, days


def _conflict_message(result: solver.RosterResult, setup: Setup) -> str:
    names = {k: a.name for k, a in setup.agents.items()}
    parts = []
    for conflict in result.conflicts[:10]:
        labels = ", ".join(rule_label(r) for r in conflict.rules)
        parts.append(
            gettext("%(agent)s: %(rules)s") % {"agent": names.get(conflict.agent, conflict.agent), "rules": labels}
        )
    return "; ".join(parts)


def rule_label(rule: str) -> str:
    labels = {
        "weekly_hours_max": gettext("maximum hours per week"),
        "weekly_hours_min": gettext("minimum hours per week"),
        "min_rest": gettext("minimum rest between shifts"),
        "consecutive_days": gettext("maximum consecutive working days"),
        "night_shifts": gettext("maximum night shifts"),
        "days_off": gettext("days off per week"),
        "on_leave": gettext("approved leave"),
        "unavailable": gettext("unavailability"),
        "skill": gettext("skills"),
        "template_not_allowed": gettext("allowed shifts"),
        "locked_shift": gettext("fixed shifts"),
        "lunch_window": gettext("lunch window"),
    }
    return labels.get(str(rule), str(rule))


def _solve(
    workspace: Workspace,
    start_date: dt.date,
    days: int,
    *,
    previous: list[Shift] | None,
    seconds: float | None,
) -> tuple[Setup, solver.RosterResult, dict[tuple[int, str], int]]:
    from pivotdesk.workforce.domain import roster as solver  # OR-Tools loads when a roster is planned

    agents = rosterable_agents(workspace)
    if not agents:
        raise ValidationFailed(gettext("There are no active agents to roster."), code=WorkforceErrorCode.NO_AGENTS)
    if not ShiftTemplate.objects.filter(workspace=workspace, is_active=True).exists():
        raise ValidationFailed(
            gettext("Add at least one shift template before planning a roster."), code=WorkforceErrorCode.NO_TEMPLATES
        )
    setup = build(workspace, start_date, days, agents=agents, shifts=[])
    active = {
        str(pk) for pk in ShiftTemplate.objects.filter(workspace=workspace, is_active=True).values_list("pk", flat=True)
    }
    setup.workforce = rules.Workforce(
        days=days,
        templates=tuple(t for t in setup.workforce.templates if t.id in active),
        contracts=setup.workforce.contracts,
        agents=setup.workforce.agents,
        interval_minutes=30,
    )
    try:
        solver.validate(setup.workforce)
    except ValueError as exc:
        raise ValidationFailed(
            gettext("Shift templates must start and last in whole half hours (%(problem)s).") % {"problem": exc},
            code=WorkforceErrorCode.INVALID_VALUE,
        ) from exc
    need = requirement(workspace, setup.horizon)
    prior: list[rules.Shift] | None = None
    locked: list[rules.Shift] = []
    if previous is not None:
        mapped = build(workspace, start_date, days, agents=agents, shifts=previous)
        prior = [mapped.by_pk[s.pk] for s in previous if s.pk in mapped.by_pk and s.agent_id is not None]
        prior = [s for s in prior if s.template in setup.workforce.template_by_id]
        locked = [
            mapped.by_pk[s.pk]
            for s in previous
            if s.source in LOCKED_SOURCES and s.agent_id is not None and mapped.by_pk[s.pk].template in active
        ]
    result = solver.solve(
        setup.workforce,
        need,
        locked=locked,
        previous=prior,
        time_limit_s=seconds if seconds is not None else time_limit(),
        num_workers=int(getattr(settings, "PIVOTDESK_ROSTER_WORKERS", 2)),
    )
    if result.status == solver.RosterStatus.INFEASIBLE:
        raise ValidationFailed(
            gettext("No roster can keep every rule: %(conflicts)s.") % {"conflicts": _conflict_message(result, setup)},
            code=WorkforceErrorCode.INFEASIBLE,
            details={"conflicts": [{"agent_id": c.agent, "rules": list(c.rules)} for c in result.conflicts]},
        )
    if result.status == solver.RosterStatus.NO_SOLUTION_IN_TIME:
        raise ValidationFailed(
            gettext("No roster was found in %(seconds)s s: allow more time or fewer days.")
            % {"seconds": round(seconds or time_limit())},
            code=WorkforceErrorCode.NO_ROSTER_FOUND,
        )
    broken = rules.check_roster(setup.workforce, result.shifts, locked=locked)
    if broken:  # the independent checker disagrees with the solver: never store such a roster
        raise ValidationFailed(
            gettext("The planned roster broke a rule (%(rule)s); it was not stored.") % {"rule": broken[0].rule},
            code=WorkforceErrorCode.INFEASIBLE,
        )
    return setup, result, need


def _solver_report(setup: Setup, result: solver.RosterResult, need: dict[tuple[int, str], int]) -> dict[str, Any]:
    slots = setup.horizon.days * 1440 // 30
    skills = sorted({k[1] for k in need} | {c.skill for c in result.coverage})
    need_by = {s: [0] * slots for s in skills}
    have_by = {s: [0] * slots for s in skills}
    for c in result.coverage:
        if 0 <= c.interval < slots:
            need_by[c.skill][c.interval] = c.need
            have_by[c.skill][c.interval] = c.scheduled
    return {
        "status": str(result.status),
        "objective": result.objective,
        "bound": result.bound,
        "gap": None if result.gap is None else round(result.gap, 4),
        "wall_seconds": round(result.wall_seconds, 2),
        "variables": result.num_variables,
        "constraints": result.num_constraints,
        "under_staffed": result.under_staffed,
        "over_staffed": result.over_staffed,
        "changes": result.changes,
        "interval_minutes": 30,
        "skills": skills,
        "need": need_by,
        "scheduled": have_by,
        "unmet": [
            {
                "interval": u.interval,
                "skill": u.skill,
                "need": u.need,
                "scheduled": u.scheduled,
                "reasons": [[str(r), n] for r, n in u.reasons],
            }
            for u in result.unmet[:300]
        ],
    }


def _store(
    workspace: Workspace,
    *,
    start_date: dt.date,
    days: int,
    setup: Setup,
    result: solver.RosterResult,
    need: dict[tuple[int, str], int],
    actor: Actor,
    based_on: Roster | None,
    keep: list[Shift],
) -> Roster:
    horizon = setup.horizon
    templates = {str(t.pk): t for t in ShiftTemplate.objects.filter(workspace=workspace)}
    skills = {s.name: s for s in Skill.objects.filter(workspace=workspace)}
    with transaction.atomic():
        version = (
            Roster.objects.filter(workspace=workspace, start_date=start_date).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        roster = Roster.objects.create(
            workspace=workspace,
            start_date=start_date,
            end_date=start_date + dt.timedelta(days=days - 1),
            version=version,
            based_on=based_on,
            solver=_solver_report(setup, result, need),
            created_by=actor.agent,
        )
        rows = []
        previous = {(str(s.agent_id), horizon.minute(s.start) // 1440): s for s in keep}
        for s in result.shifts:
            template = templates[s.template]
            shape = setup.workforce.template_by_id[s.template]
            start, end = rules.shift_span(shape, s)
            before = previous.get((s.agent, s.day))
            rows.append(
                Shift(
                    workspace=workspace,
                    roster=roster,
                    agent_id=int(s.agent),
                    template=template,
                    kind=template.kind,
                    start=horizon.instant(start),
                    end=horizon.instant(start) + dt.timedelta(minutes=end - start),
                    break_start=horizon.instant(s.lunch_start) if s.lunch_start is not None else None,
                    break_end=horizon.instant(s.lunch_start) + dt.timedelta(minutes=shape.lunch_length)
                    if s.lunch_start is not None
                    else None,
                    skill=skills.get(s.skill),
                    source=before.source
                    if before is not None and before.template_id == template.pk and before.source in LOCKED_SOURCES
                    else ShiftSource.SOLVER,
                )
            )
        for old in keep:
            if old.template_id is None or old.agent_id is None:  # overtime, manual and open shifts are carried over
                rows.append(
                    Shift(
                        workspace=workspace,
                        roster=roster,
                        agent_id=old.agent_id,
                        template=old.template,
                        kind=old.kind,
                        start=old.start,
                        end=old.end,
                        break_start=old.break_start,
                        break_end=old.break_end,
                        skill=old.skill,
                        source=old.source,
                    )
                )
        Shift.objects.bulk_create(rows, batch_size=500)
    return roster


def roster_generate(
    *, actor: Actor, workspace: Workspace, start_date: Any, days: Any = 7, seconds: float | None = None
) -> Roster:
    """Plan a new draft roster for `days` local days from `start_date` (the next version of that start date)."""
    _require(actor, workspace.pk)
    start_date, days = _validate_period(workspace, start_date, days)
    setup, result, need = _solve(workspace, start_date, days, previous=None, seconds=seconds)
    return _store(
        workspace,
        start_date=start_date,
        days=days,
        setup=setup,
        result=result,
        need=need,
        actor=actor,
        based_on=None,
        keep=[],
    )


def roster_replan(*, actor: Actor, roster: Roster, seconds: float | None = None) -> Roster:
    """A new draft version of a roster that changes as few shifts as it can (swaps, pick-ups and manual edits are
    kept as they are) after something changed: leave, an agent, the forecast."""
    _require(actor, roster.workspace_id)
    days = (roster.end_date - roster.start_date).days + 1
    previous = list(roster.shifts.select_related("skill", "template"))
    setup, result, need = _solve(roster.workspace, roster.start_date, days, previous=previous, seconds=seconds)
    return _store(
        roster.workspace,
        start_date=roster.start_date,
        days=days,
        setup=setup,
        result=result,
        need=need,
        actor=actor,
        based_on=roster,
        keep=previous,
    )


def roster_publish(*, actor: Actor, roster: Roster) -> Roster:
    """Publish a draft: it replaces the published version of the same days, its agents are notified, and routing
    starts to use it."""
    from pivotdesk.workforce.notify import notify_roster

    _require(actor, roster.workspace_id)
    with transaction.atomic():
        roster = Roster.objects.select_for_update().get(pk=roster.pk)
        if roster.status != RosterStatus.DRAFT:
            raise ValidationFailed(gettext("Only a draft roster can be published."), code=WorkforceErrorCode.NOT_DRAFT)
        _validate_period(roster.workspace, roster.start_date, (roster.end_date - roster.start_date).days + 1)
        Roster.objects.filter(
            workspace_id=roster.workspace_id, start_date=roster.start_date, status=RosterStatus.PUBLISHED
        ).update(status=RosterStatus.SUPERSEDED, updated_at=now())
        roster.status = RosterStatus.PUBLISHED
        roster.published_at = now()
        roster.published_by = actor.agent
        roster.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        counts = Counter(
            a for a in roster.shifts.filter(agent__isnull=False).values_list("agent_id", flat=True) if a is not None
        )
        notify_roster(roster, dict(counts))
        publish(
            RosterPublished(
                workspace_id=roster.workspace_id,
                roster_id=roster.pk,
                version=roster.version,
                start_date=roster.start_date.isoformat(),
                end_date=roster.end_date.isoformat(),
                agent_ids=sorted(counts),
            )
        )
        publish(AvailabilityChanged(workspace_id=roster.workspace_id, agent_ids=sorted(counts), reason="roster"))
    return roster


def roster_delete(*, actor: Actor, roster: Roster) -> None:
    """Discard a draft (published rosters are kept: they are the record of who was scheduled)."""
    _require(actor, roster.workspace_id)
    if roster.status != RosterStatus.DRAFT:
        raise ValidationFailed(gettext("Only a draft roster can be deleted."), code=WorkforceErrorCode.NOT_DRAFT)
    roster.delete()


# --- editing shifts by form --------------------------------------------------------------------------------------


def shift_save(
    *,
    actor: Actor,
    roster: Roster,
    start: dt.datetime,
    end: dt.datetime,
    agent: AgentProfile | None = None,
    template: ShiftTemplate | None = None,
    skill: Skill | None = None,
    kind: str = ShiftKind.DAY,
    shift: Shift | None = None,
    force: bool = False,
) -> tuple[Shift, list[dict[str, Any]]]:
    """Add or change one shift (an open shift when no agent). The rules the agent's week would break are returned;
    unless `force`, a change that breaks one is refused with them."""
    from pivotdesk.workforce.services.checks import describe

    _require(actor, roster.workspace_id)
    for obj in (agent, template, skill):
        if obj is not None and obj.workspace_id != roster.workspace_id:
            raise ValidationFailed(
                gettext("That belongs to another workspace."), code=WorkforceErrorCode.WRONG_WORKSPACE
            )
    if shift is not None and shift.roster_id != roster.pk:
        raise NotFound(gettext("No such shift in this roster."), code=WorkforceErrorCode.NOT_FOUND)
    if start is None or end is None or end <= start or end - start > dt.timedelta(hours=16):
        raise ValidationFailed(
            gettext("A shift ends after it starts and lasts at most 16 hours."),
            code=WorkforceErrorCode.INVALID_PERIOD,
            details={"end": "after start"},
        )
    if kind not in ShiftKind.values:
        raise ValidationFailed(
            gettext("Unknown shift kind “%(value)s”.") % {"value": kind}, code=WorkforceErrorCode.INVALID_VALUE
        )
    row = shift or Shift(workspace_id=roster.workspace_id, roster=roster)
    row.agent, row.template, row.skill, row.kind, row.start, row.end = agent, template, skill, kind, start, end
    row.source = ShiftSource.MANUAL
    if template is None or (end - start) != dt.timedelta(minutes=template.length_minutes):
        row.break_start = row.break_end = None
    violations: list[dict[str, Any]] = []
    if agent is not None:
        violations = week_violations(roster, agent, replacing=row)
        if violations and not force:
            names = {agent.pk: agent.name}
            raise ValidationFailed(
                gettext("This shift breaks rules: %(rules)s.")
                % {"rules": "; ".join(describe(v, names) for v in violations)},
                code=WorkforceErrorCode.RULES_BROKEN,
                details={"violations": violations},
            )
    with transaction.atomic():
        row.save()
        if roster.status == RosterStatus.PUBLISHED:
            ids = [a for a in (agent.pk if agent else None, shift.agent_id if shift else None) if a]
            publish(AvailabilityChanged(workspace_id=roster.workspace_id, agent_ids=ids, reason="shift_edit"))
    return row, violations


def shift_delete(*, actor: Actor, shift: Shift) -> None:
    _require(actor, shift.workspace_id)
    with transaction.atomic():
        published = shift.roster.status == RosterStatus.PUBLISHED
        agent_id = shift.agent_id
        shift.delete()
        if published:
            publish(
                AvailabilityChanged(
                    workspace_id=shift.workspace_id, agent_ids=[agent_id] if agent_id else [], reason="shift_edit"
                )
            )


def week_violations(roster: Roster, agent: AgentProfile, *, replacing: Shift | None = None) -> list[dict[str, Any]]:
    """Hard rules the agent's shifts in the roster's days break (with `replacing` saved in place of its old self)."""
    shifts = [
        s
        for s in roster.shifts.filter(agent=agent).select_related("skill")
        if replacing is None or s.pk != replacing.pk
    ]
    if replacing is not None and replacing.agent_id == agent.pk:
        replacing.pk = replacing.pk or -1
        shifts.append(replacing)
    start = roster.start_date - dt.timedelta(days=roster.start_date.weekday())
    days = ((roster.end_date - start).days // 7 + 1) * 7
    setup = build(roster.workspace, start, days, agents=[agent], shifts=shifts)
    mine = [setup.by_pk[s.pk] for s in shifts if s.pk in setup.by_pk]
    if replacing is not None and replacing.pk == -1:
        replacing.pk = None
    found = rules.check_agent(setup.workforce, str(agent.pk), mine)
    # a week being filled in is not a broken rule yet
    return stored([v for v in found if v.rule != rules.Rule.WEEKLY_HOURS_MIN], setup.horizon.start)


def published_for(workspace: Workspace, day: dt.date) -> Roster | None:
    return (
        Roster.objects.filter(
            workspace=workspace, status=RosterStatus.PUBLISHED, start_date__lte=day, end_date__gte=day
        )
        .order_by("-version")
        .first()
    )


def coverage_of(roster: Roster) -> dict[str, Any]:
    """Required vs scheduled agents per 30-minute interval and skill, for the chart (from the stored report; a
    roster edited by hand is recounted)."""
    report = dict(roster.solver or {})
    days = (roster.end_date - roster.start_date).days + 1
    setup = build(
        roster.workspace, roster.start_date, days, agents=None, shifts=list(roster.shifts.select_related("skill"))
    )
    have = _scheduled(setup, [s for s in setup.by_pk.values() if s.agent != "None"], 30)
    skills = sorted(set(report.get("skills", [])) | {k[1] for k in have})
    slots = days * 48
    report["skills"] = skills
    report["scheduled"] = {s: [have.get((i, s), 0) for i in range(slots)] for s in skills}
    report.setdefault("need", {})
    for s in skills:
        report["need"].setdefault(s, [0] * slots)
    return report


def roster_q(workspace: Workspace) -> Q:
    return Q(workspace=workspace)
