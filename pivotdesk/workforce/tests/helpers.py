"""Small builders for workforce tests: a published roster with shifts at given local times."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.workforce.models import Contract, Roster, RosterStatus, Shift, ShiftKind, ShiftTemplate


def local(workspace: Workspace, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(workspace.time_zone))


def roster(workspace: Workspace, start: dt.date, days: int = 7, *, published: bool = True) -> Roster:
    return Roster.objects.create(
        workspace=workspace,
        start_date=start,
        end_date=start + dt.timedelta(days=days - 1),
        status=RosterStatus.PUBLISHED if published else RosterStatus.DRAFT,
    )


def shift(
    r: Roster,
    agent: AgentProfile | None,
    start: dt.datetime,
    hours: float = 8,
    *,
    template: ShiftTemplate | None = None,
    kind: str = ShiftKind.DAY,
) -> Shift:
    return Shift.objects.create(
        workspace_id=r.workspace_id,
        roster=r,
        agent=agent,
        template=template,
        kind=kind,
        start=start,
        end=start + dt.timedelta(hours=hours),
    )


def template(
    workspace: Workspace, name: str = "Day", start: str = "09:00", hours: int = 8, **extra: object
) -> ShiftTemplate:
    return ShiftTemplate.objects.create(
        workspace=workspace,
        name=name,
        start_time=dt.time.fromisoformat(start),
        length_minutes=hours * 60,
        **extra,
    )


def contract(workspace: Workspace, **values: object) -> Contract:
    return Contract.objects.create(workspace=workspace, name=str(values.pop("name", "Full time")), **values)
