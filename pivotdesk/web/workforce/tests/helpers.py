"""Workforce screen fixtures built straight in the database (a published roster without the solver), so that the
page tests stay fast; the solver runs in the flow test only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.time import now
from pivotdesk.workforce.models import Roster, RosterStatus, Shift, ShiftKind, ShiftTemplate, WorkQueue
from pivotdesk.workforce.services.model import monday_of
from pivotdesk.workforce.services.time import local_start, zone_of


def next_monday(workspace: Workspace) -> dt.date:
    return monday_of(now().astimezone(zone_of(workspace)).date()) + dt.timedelta(days=7)


@dataclass
class Planned:
    roster: Roster
    mine: Shift
    theirs: Shift
    open: Shift
    queue: WorkQueue
    template: ShiftTemplate


def published_roster(workspace: Workspace, me: AgentProfile, colleague: AgentProfile) -> Planned:
    """Next week's roster, published: my shift on Monday, the colleague's on Tuesday, an open one on Wednesday."""
    tz = zone_of(workspace)
    start = next_monday(workspace)
    template = ShiftTemplate.objects.create(
        workspace=workspace, name="白班", kind=ShiftKind.DAY, start_time=dt.time(9), length_minutes=480
    )
    queue = WorkQueue.objects.create(workspace=workspace, name="售后队列")
    roster = Roster.objects.create(
        workspace=workspace,
        start_date=start,
        end_date=start + dt.timedelta(days=6),
        status=RosterStatus.PUBLISHED,
        solver={"status": "OPTIMAL", "gap": 0.0, "under_staffed": 1, "over_staffed": 0, "skills": ["*"],
                "need": {"*": [0] * 336}, "scheduled": {"*": [0] * 336},
                "unmet": [{"interval": 40 + i, "skill": "*", "need": 3, "scheduled": 1,
                           "reasons": [["weekly_hours_limit", 2]]} for i in range(2)]},
    )  # fmt: skip

    def shift(agent: AgentProfile | None, day: int) -> Shift:
        begin = local_start(start + dt.timedelta(days=day), tz, 9 * 60)
        return Shift.objects.create(
            workspace=workspace,
            roster=roster,
            agent=agent,
            template=template,
            kind=ShiftKind.DAY,
            start=begin,
            end=begin + dt.timedelta(hours=8),
        )

    return Planned(roster, shift(me, 0), shift(colleague, 1), shift(None, 2), queue, template)
