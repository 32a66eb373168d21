"""The multi-skill check of a roster day: the simulation reads the forecast and the roster's shifts; more agents on
the phones give a higher service level."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentSkill, Skill
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied
from pivotdesk.workforce.models import Forecast, QueueKind, WorkQueue
from pivotdesk.workforce.services.simulation import simulate_roster_day
from pivotdesk.workforce.tests.helpers import roster, shift

pytestmark = pytest.mark.django_db
DAY = dt.date(2030, 1, 8)


def _setup(workspace, agents: int):
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    skill = Skill.objects.create(workspace=workspace, name="phones")
    queue = WorkQueue.objects.create(
        workspace=workspace,
        name="Hotline",
        kind=QueueKind.REALTIME,
        skill=skill,
        interval_minutes=60,
        target_seconds=20,
    )
    points = [[dt.datetime.combine(DAY, dt.time(h), tz).isoformat(), 40.0, 30.0, 50.0, 180.0] for h in range(9, 17)]
    Forecast.objects.create(
        workspace=workspace,
        queue=queue,
        interval_minutes=60,
        start=dt.datetime.combine(DAY, dt.time(9), tz),
        end=dt.datetime.combine(DAY, dt.time(16), tz),
        points=points,
    )
    r = roster(workspace, DAY - dt.timedelta(days=1), days=7)
    for _ in range(agents):
        a: Any = AgentFactory(workspace=workspace)
        AgentSkill.objects.create(agent=a, skill=skill, level=3)
        shift(r, a, dt.datetime.combine(DAY, dt.time(9), tz).astimezone(dt.UTC), hours=8)
    return r


def test_more_agents_answer_more_within_the_target(workspace, supervisor, other_workspace):
    few = simulate_roster_day(actor=Actor.for_agent(supervisor), roster=_setup(workspace, 2), day=DAY, replications=8)
    many = simulate_roster_day(
        actor=Actor.for_agent(AgentFactory(workspace=other_workspace, role="supervisor")),
        roster=_setup(other_workspace, 4),
        day=DAY,
        replications=8,
    )
    assert few[0].day_service_level is not None and many[0].day_service_level is not None
    assert 0 <= few[0].day_service_level < many[0].day_service_level <= 1
    busy = [sl for sl in many[0].service_level if sl is not None]
    assert len(busy) == 8  # the eight hours with calls
    assert few[0].day_abandon_rate is not None


def test_agents_cannot_run_it(workspace, agent):
    with pytest.raises(PermissionDenied):
        simulate_roster_day(actor=Actor.for_agent(agent), roster=_setup(workspace, 1), day=DAY)
