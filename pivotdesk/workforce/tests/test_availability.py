"""Who is on shift: overnight shifts, DST changes, breaks, leave, and routing that uses the answer."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory
from pivotdesk.workforce.models import Leave
from pivotdesk.workforce.selectors import availability
from pivotdesk.workforce.services.model import Horizon
from pivotdesk.workforce.services.time import day_bounds, local_start
from pivotdesk.workforce.tests.helpers import local, roster, shift

pytestmark = pytest.mark.django_db


def test_no_roster_means_everyone_is_on_shift(workspace, agent):
    when = availability(workspace.pk, dt.datetime(2026, 12, 7, 3, tzinfo=dt.UTC))
    assert not when.rostered
    assert when.is_on_shift(agent.pk)


def test_overnight_shift_covers_both_days(workspace, agent, supervisor):
    r = roster(workspace, dt.date(2026, 12, 7))
    shift(r, agent, local(workspace, dt.date(2026, 12, 7), 22), hours=8)  # 22:00 → 06:00 the next day
    shift(r, supervisor, local(workspace, dt.date(2026, 12, 7), 9), hours=8)
    late = availability(workspace.pk, local(workspace, dt.date(2026, 12, 7), 23, 30))
    early = availability(workspace.pk, local(workspace, dt.date(2026, 12, 8), 5, 59))
    after = availability(workspace.pk, local(workspace, dt.date(2026, 12, 8), 6, 0))
    assert late.rostered and late.is_on_shift(agent.pk) and not late.is_on_shift(supervisor.pk)
    assert early.is_on_shift(agent.pk)
    assert not after.is_on_shift(agent.pk) or not after.rostered
    assert late.next_change == local(workspace, dt.date(2026, 12, 8), 6, 0)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [("Europe/Berlin", dt.date(2026, 3, 29), 23), ("Europe/Berlin", dt.date(2026, 10, 25), 25)],
)
def test_dst_days_have_their_real_length(zone, day, hours):
    tz = zoneinfo.ZoneInfo(zone)
    start, end = day_bounds(day, tz)
    assert (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() == hours * 3600


def test_on_shift_across_the_spring_dst_change():
    """A night shift 22:00 → 06:00 wall clock over the night clocks go forward (Europe/Berlin, 2026-03-29) lasts 7
    real hours (shifts keep their wall-clock times, as the roster prints them); stored and answered as instants."""
    ws = WorkspaceFactory(time_zone="Europe/Berlin")
    night = AgentFactory(workspace=ws)
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    horizon = Horizon(ws, dt.date(2026, 3, 23), 7)
    start = horizon.instant(6 * 1440 - 120)  # Saturday 28th 22:00 local
    end = horizon.instant(6 * 1440 + 360)  # Sunday 29th 06:00 local (after the change)
    assert start == dt.datetime(2026, 3, 28, 22, tzinfo=tz)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=7)
    r = roster(ws, dt.date(2026, 3, 23))
    shift(r, night, start.astimezone(dt.UTC), hours=7)
    # 02:30 local does not exist that night; 01:59 and 03:01 do
    assert availability(ws.pk, dt.datetime(2026, 3, 29, 1, 59, tzinfo=tz)).is_on_shift(night.pk)
    assert availability(ws.pk, dt.datetime(2026, 3, 29, 3, 1, tzinfo=tz)).is_on_shift(night.pk)
    assert availability(ws.pk, dt.datetime(2026, 3, 29, 5, 59, tzinfo=tz)).is_on_shift(night.pk)
    assert not availability(ws.pk, dt.datetime(2026, 3, 29, 6, 0, tzinfo=tz)).rostered


def test_on_shift_across_the_autumn_dst_change():
    """The repeated hour (02:00–03:00 twice, Europe/Berlin 2026-10-25): a shift 00:00–04:00 wall clock is 5 real hours."""
    ws = WorkspaceFactory(time_zone="Europe/Berlin")
    a = AgentFactory(workspace=ws)
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    start = local_start(dt.date(2026, 10, 25), tz)
    end = local_start(dt.date(2026, 10, 25), tz, 240)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=5)
    r = roster(ws, dt.date(2026, 10, 19))
    shift(r, a, start.astimezone(dt.UTC), hours=5)
    second_two_thirty = dt.datetime(2026, 10, 25, 2, 30, tzinfo=tz, fold=1)
    assert availability(ws.pk, second_two_thirty).is_on_shift(a.pk)
    assert availability(ws.pk, dt.datetime(2026, 10, 25, 3, 59, tzinfo=tz)).is_on_shift(a.pk)


def test_break_and_leave(workspace, agent, supervisor):
    r = roster(workspace, dt.date(2026, 12, 7))
    s = shift(r, agent, local(workspace, dt.date(2026, 12, 7), 9))
    s.break_start = local(workspace, dt.date(2026, 12, 7), 12)
    s.break_end = local(workspace, dt.date(2026, 12, 7), 13)
    s.save()
    shift(r, supervisor, local(workspace, dt.date(2026, 12, 7), 9))
    lunch = availability(workspace.pk, local(workspace, dt.date(2026, 12, 7), 12, 30))
    assert agent.pk in lunch.on_break and lunch.is_on_shift(agent.pk)
    Leave.objects.create(
        workspace=workspace,
        agent=supervisor,
        start=local(workspace, dt.date(2026, 12, 7), 0),
        end=local(workspace, dt.date(2026, 12, 8), 0),
    )
    assert not availability(workspace.pk, local(workspace, dt.date(2026, 12, 7), 10)).is_on_shift(supervisor.pk)


def test_draft_rosters_do_not_count(workspace, agent):
    r = roster(workspace, dt.date(2026, 12, 7), published=False)
    shift(r, agent, local(workspace, dt.date(2026, 12, 7), 9))
    assert not availability(workspace.pk, local(workspace, dt.date(2026, 12, 7), 10)).rostered
