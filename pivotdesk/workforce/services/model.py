"""From the database to the framework-free rostering model (`domain.rules`) and back.

A horizon is whole local days from a Monday; times are wall-clock minutes from its local midnight (so a shift
template "09:00, 8 h" is the same minutes every day, DST or not; the aware instants are computed when shifts are
stored, with `services.time.local_start`). Shifts without a template (overtime, manual edits) become one-off
templates named `s<pk>` so the checker still sees their real times.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from pivotdesk.accounts.models import AgentProfile, AgentSkill, Workspace
from pivotdesk.workforce.domain import rules
from pivotdesk.workforce.models import Contract, Leave, RosterStatus, Shift, ShiftKind, ShiftTemplate, WorkforceProfile
from pivotdesk.workforce.services.time import local_start, zone_of

ANY_SKILL = "*"
DEFAULT_CONTRACT = rules.Contract(id="default")


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def template_of(t: ShiftTemplate) -> rules.ShiftTemplate:
    return rules.ShiftTemplate(
        id=str(t.pk),
        start=t.start_time.hour * 60 + t.start_time.minute,
        length=int(t.length_minutes),
        lunch_length=int(t.unpaid_break_minutes or 0),
        lunch_earliest=int(t.break_earliest_minutes or 0),
        lunch_latest=int(t.break_latest_minutes or 0),
        paid_break_minutes=int(t.paid_break_minutes or 0),
        is_night=t.kind == ShiftKind.NIGHT,
    )


def contract_of(c: Contract) -> rules.Contract:
    return rules.Contract(
        id=str(c.pk),
        min_week_minutes=round(float(c.min_hours_week) * 60),
        max_week_minutes=round(float(c.max_hours_week) * 60),
        min_rest_minutes=round(float(c.min_rest_hours) * 60),
        max_consecutive_days=int(c.max_consecutive_days),
        max_night_shifts=int(c.max_night_shifts_week),
        min_days_off_per_week=int(c.min_days_off_week),
    )


@dataclass
class Horizon:
    """Local days [start, start + days) of a workspace, and the conversions between instants and minutes."""

    workspace: Workspace
    start: dt.date
    days: int
    tz: zoneinfo.ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = zone_of(self.workspace)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return local_start(self.start, self.tz), local_start(self.end, self.tz)

    def minute(self, at: dt.datetime) -> int:
        """Wall-clock minutes from the horizon's first local midnight."""
        local = at.astimezone(self.tz)
        return (local.date() - self.start).days * 1440 + local.hour * 60 + local.minute

    def instant(self, minute: int) -> dt.datetime:
        day, rest = divmod(minute, 1440)
        return local_start(self.start + dt.timedelta(days=day), self.tz, rest)


@dataclass
class Setup:
    horizon: Horizon
    workforce: rules.Workforce
    shifts: list[rules.Shift]
    by_pk: dict[int, rules.Shift]
    agents: dict[str, AgentProfile]


def _spans(horizon: Horizon, weekly: dict[str, list[list[int]]]) -> list[tuple[int, int]]:
    out = []
    for offset in range(horizon.days):
        day = horizon.start + dt.timedelta(days=offset)
        for start, end in weekly.get(str(day.weekday()), []):
            out.append((offset * 1440 + int(start), offset * 1440 + int(end)))
    return out


def _shift_template(s: Shift, horizon: Horizon) -> rules.ShiftTemplate:
    start = horizon.minute(s.start) % 1440
    return rules.ShiftTemplate(
        id=f"s{s.pk}",
        start=start,
        length=max(1, round((s.end - s.start).total_seconds() / 60)),
        is_night=s.kind == ShiftKind.NIGHT,
    )


def domain_shift(s: Shift, horizon: Horizon, template_id: str) -> rules.Shift:
    lunch = horizon.minute(s.break_start) if s.break_start is not None else None
    return rules.Shift(
        agent=str(s.agent_id),
        day=horizon.minute(s.start) // 1440,
        template=template_id,
        skill=s.skill.name if s.skill_id and s.skill else ANY_SKILL,
        lunch_start=lunch,
    )


def build(
    workspace: Workspace,
    start: dt.date,
    days: int,
    *,
    agents: list[AgentProfile] | None = None,
    shifts: list[Shift] | None = None,
) -> Setup:
    """The facts (templates, contracts, agents with skills, leave and unavailability) and the published shifts of
    a horizon, as the checker and the solver read them."""
    horizon = Horizon(workspace, start, days)
    begin, finish = horizon.bounds()
    templates = {str(t.pk): template_of(t) for t in ShiftTemplate.objects.filter(workspace=workspace)}
    contracts = {str(c.pk): contract_of(c) for c in Contract.objects.filter(workspace=workspace)}
    if agents is None:
        agents = list(AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user"))
    ids = [a.pk for a in agents]
    profiles = {p.agent_id: p for p in WorkforceProfile.objects.filter(agent_id__in=ids).prefetch_related("templates")}
    skills: dict[int, set[str]] = {a: {ANY_SKILL} for a in ids}
    for agent_id, name in AgentSkill.objects.filter(agent_id__in=ids).values_list("agent_id", "skill__name"):
        skills[agent_id].add(name)
    leave: dict[int, list[tuple[int, int]]] = {}
    for agent_id, l_start, l_end in Leave.objects.filter(agent_id__in=ids, start__lt=finish, end__gt=begin).values_list(
        "agent_id", "start", "end"
    ):
        leave.setdefault(agent_id, []).append((horizon.minute(max(l_start, begin)), horizon.minute(min(l_end, finish))))
    if shifts is None:
        shifts = list(
            Shift.objects.filter(
                workspace=workspace,
                roster__status=RosterStatus.PUBLISHED,
                agent_id__in=ids,
                start__gte=begin,
                start__lt=finish,
            ).select_related("skill")
        )
    domain: list[rules.Shift] = []
    by_pk: dict[int, rules.Shift] = {}
    extra: dict[str, rules.ShiftTemplate] = {}
    for s in shifts:
        template_id = str(s.template_id) if s.template_id is not None and str(s.template_id) in templates else ""
        if not template_id or s.end - s.start != dt.timedelta(minutes=templates[template_id].length):
            shape = _shift_template(s, horizon)
            extra[shape.id] = shape
            template_id = shape.id
        item = domain_shift(s, horizon, template_id)
        by_pk[s.pk] = item
        if s.agent_id is not None:
            domain.append(item)
    domain_agents = []
    for a in agents:
        profile = profiles.get(a.pk)
        allowed = None
        if profile is not None:
            chosen = {str(t.pk) for t in profile.templates.all()}
            allowed = frozenset(chosen | set(extra)) if chosen else None
        prefs = (profile.preferences if profile else {}) or {}
        domain_agents.append(
            rules.Agent(
                id=str(a.pk),
                contract=str(profile.contract_id) if profile and profile.contract_id else DEFAULT_CONTRACT.id,
                skills=frozenset(skills[a.pk]),
                templates=allowed,
                leave=tuple(leave.get(a.pk, ())),
                unavailable=tuple(_spans(horizon, profile.unavailable or {})) if profile else (),
                preferred_days_off=frozenset(int(d) for d in prefs.get("days_off", [])),
                avoided_templates=frozenset(
                    t for t, shape in templates.items() if prefs.get("avoid_nights") and shape.is_night
                ),
            )
        )
    workforce = rules.Workforce(
        days=days,
        templates=(*templates.values(), *extra.values()),
        contracts=(DEFAULT_CONTRACT, *contracts.values()),
        agents=tuple(domain_agents),
    )
    return Setup(
        horizon=horizon, workforce=workforce, shifts=domain, by_pk=by_pk, agents={str(a.pk): a for a in agents}
    )
