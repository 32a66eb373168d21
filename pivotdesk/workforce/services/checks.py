"""Which labour rules a request would break, before it is sent: the independent checker (`domain.rules`) run on
the published roster of the weeks around the change, with the change applied. Violations are stored as codes and
facts and put into words when shown (`describe`), in the reader's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.workforce.domain import rules
from pivotdesk.workforce.models import Shift
from pivotdesk.workforce.services.model import build, monday_of
from pivotdesk.workforce.services.time import zone_of


@dataclass(frozen=True)
class Change:
    kind: str  # swap | pickup | leave | overtime
    agent_id: int
    shift: Shift | None = None
    peer_shift: Shift | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _window(workspace: Workspace, change: Change) -> tuple[dt.date, int]:
    tz = zone_of(workspace)
    instants = [
        x
        for x in (
            change.start,
            change.end,
            change.shift.start if change.shift else None,
            change.peer_shift.start if change.peer_shift else None,
        )
        if x is not None
    ]
    first = min(i.astimezone(tz).date() for i in instants)
    last = max(i.astimezone(tz).date() for i in instants)
    start = monday_of(first - dt.timedelta(days=1))
    end = monday_of(last + dt.timedelta(days=1)) + dt.timedelta(days=7)
    return start, (end - start).days


def violations_for(workspace_id: int, change: Change) -> list[dict[str, Any]]:
    """The rules the change would newly break, for the agents it affects: [{"rule", "agent_id", "day", "facts"}]."""
    workspace = Workspace.objects.get(pk=workspace_id)
    start, days = _window(workspace, change)
    involved = {change.agent_id}
    if change.peer_shift is not None and change.peer_shift.agent_id is not None:
        involved.add(change.peer_shift.agent_id)
    agents = list(AgentProfile.objects.filter(pk__in=involved, workspace_id=workspace_id))
    setup = build(workspace, start, days, agents=agents)
    horizon = setup.horizon
    me = str(change.agent_id)
    domain_change: rules.Change
    if change.kind == "swap" and change.shift is not None and change.peer_shift is not None:
        mine, theirs = setup.by_pk.get(change.shift.pk), setup.by_pk.get(change.peer_shift.pk)
        if mine is None or theirs is None:
            return []
        domain_change = rules.Swap(agent_a=me, day_a=mine.day, agent_b=theirs.agent, day_b=theirs.day)
    elif change.kind == "pickup" and change.shift is not None:
        extra = build(workspace, start, days, agents=agents, shifts=[change.shift])
        shift = extra.by_pk.get(change.shift.pk)
        if shift is None:
            return []
        setup.workforce = rules.Workforce(
            days=setup.workforce.days,
            templates=tuple({t.id: t for t in (*setup.workforce.templates, *extra.workforce.templates)}.values()),
            contracts=setup.workforce.contracts,
            agents=setup.workforce.agents,
        )
        domain_change = rules.PickUp(agent=me, shift=shift)
    elif change.kind == "leave" and change.start is not None and change.end is not None:
        domain_change = rules.TakeLeave(agent=me, start=horizon.minute(change.start), end=horizon.minute(change.end))
    elif change.kind == "overtime" and change.start is not None and change.end is not None:
        first = horizon.minute(change.start)
        length = max(1, round((change.end - change.start).total_seconds() / 60))
        shape = rules.ShiftTemplate(id="overtime", start=first % 1440, length=length)
        setup.workforce = rules.Workforce(
            days=setup.workforce.days,
            templates=(*setup.workforce.templates, shape),
            contracts=setup.workforce.contracts,
            agents=tuple(
                a if a.templates is None else rules.Agent(**{**_fields(a), "templates": a.templates | {"overtime"}})
                for a in setup.workforce.agents
            ),
        )
        extra_shift = rules.Shift(agent=me, day=first // 1440, template="overtime", skill="*")
        domain_change = rules.Overtime(agent=me, day=first // 1440, shift=extra_shift)
    else:
        return []
    return stored(rules.check_change(setup.workforce, setup.shifts, domain_change), horizon.start)


def stored(found: list[rules.Violation], first_day: dt.date) -> list[dict[str, Any]]:
    """Violations as requests and shift edits keep them: codes and facts, the day as a date (worded by `describe`)."""
    return [
        {
            "rule": str(v.rule),
            "agent_id": int(v.agent) if v.agent.isdigit() else None,
            "day": (first_day + dt.timedelta(days=v.day)).isoformat() if v.day is not None else None,
            "facts": dict(v.detail),
        }
        for v in found
    ]


def _fields(agent: rules.Agent) -> dict[str, Any]:
    return {name: getattr(agent, name) for name in agent.__dataclass_fields__}


def describe(violation: dict[str, Any], names: dict[int, str] | None = None) -> str:
    """One stored violation in words, in the active language."""
    facts = violation.get("facts") or {}
    who = (names or {}).get(violation.get("agent_id") or 0, "")
    values = {
        "who": who,
        "day": violation.get("day") or "",
        "hours": round(int(facts.get("minutes", 0) or 0) / 60, 1),
        "rest": round(int(facts.get("rest_minutes", 0) or 0) / 60, 1),
        "limit": facts.get("limit", ""),
        "nights": facts.get("nights", ""),
        "days_off": facts.get("days_off", ""),
        "skill": facts.get("skill", ""),
    }
    texts = {
        "weekly_hours_max": gettext("%(who)s would work %(hours)s h that week, above the contract's maximum"),
        "weekly_hours_min": gettext("%(who)s would work only %(hours)s h that week, below the contract's minimum"),
        "min_rest": gettext("%(who)s would have only %(rest)s h of rest before the shift on %(day)s"),
        "consecutive_days": gettext("%(who)s would work more than %(limit)s days in a row (up to %(day)s)"),
        "night_shifts": gettext("%(who)s would work %(nights)s night shifts that week, above the limit"),
        "days_off": gettext("%(who)s would have only %(days_off)s days off that week"),
        "on_leave": gettext("%(who)s is on leave on %(day)s"),
        "unavailable": gettext("%(who)s is unavailable on %(day)s at that time"),
        "skill": gettext("%(who)s lacks the skill %(skill)s that the shift covers"),
        "two_shifts_same_day": gettext("%(who)s would have two shifts on %(day)s"),
        "overlap": gettext("%(who)s would have overlapping shifts on %(day)s"),
        "template_not_allowed": gettext("%(who)s may not work this kind of shift (%(day)s)"),
    }
    text = texts.get(str(violation.get("rule")))
    if text is None:
        return gettext("Rule “%(rule)s” broken (%(day)s)") % {"rule": violation.get("rule"), "day": values["day"]}
    return (text % values).strip()
