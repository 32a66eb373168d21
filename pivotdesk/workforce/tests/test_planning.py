"""From history to a published roster through the services: import (rejected whole, by line), forecast, required
staff, roster (checked by the independent checker), publish with notifications, re-plan with few changes, and the
readable errors of bad input and infeasible rules."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentSkill, Skill
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.notifications.models import Notification
from pivotdesk.workforce.domain import rules
from pivotdesk.workforce.models import (
    ForecastStatus,
    HistoryImport,
    ImportStatus,
    QueueKind,
    RosterStatus,
    Shift,
    VolumePoint,
)
from pivotdesk.workforce.services import config, forecasting, rosters
from pivotdesk.workforce.services.model import build
from pivotdesk.workforce.tests.helpers import contract, template

pytestmark = pytest.mark.django_db


def _history_csv(workspace, weeks: int = 6, *, per_hour: int = 12) -> bytes:
    """Weekdays 09:00–17:00, a midday peak, ending last Friday."""
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    today = dt.datetime.now(tz).date()
    end = today - dt.timedelta(days=today.weekday() + 3)  # last Friday
    lines = ["timestamp,count"]
    day = end - dt.timedelta(days=7 * weeks - 1)
    while day <= end:
        if day.weekday() < 5:
            for hour in range(9, 17):
                for half in (0, 30):
                    n = per_hour // 2 + (3 if 11 <= hour < 14 else 0)
                    lines.append(f"{day.isoformat()}T{hour:02d}:{half:02d}:00,{n}")
        day += dt.timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def desk(workspace, supervisor):
    boss = Actor.for_agent(supervisor)
    billing = Skill.objects.create(workspace=workspace, name="billing")
    agents = [AgentFactory(workspace=workspace) for _ in range(4)]
    for a in agents:
        AgentSkill.objects.create(agent=a, skill=billing, level=3)
    queue = config.queue_create(
        actor=boss,
        workspace=workspace,
        fields={"name": "Billing mail", "kind": QueueKind.ASYNC, "skill": billing.pk, "reply_target_minutes": 120},
    )
    template(
        workspace, "Day", "09:00", 8, unpaid_break_minutes=60, break_earliest_minutes=180, break_latest_minutes=270
    )
    template(workspace, "Late", "12:00", 8)
    week = contract(workspace, name="40h", max_hours_week=40, min_hours_week=0, min_days_off_week=2)
    for a in [*agents, supervisor]:
        config.profile_update(actor=boss, agent=a, contract=week.pk)
    return {"boss": boss, "queue": queue, "agents": agents, "billing": billing}


def test_an_import_with_bad_rows_imports_nothing_and_says_which_lines(workspace, desk):
    data = b"timestamp,count\n2026-11-02T09:00:00,5\n2026-11-02T09:30:00,-3\nnot a date,4\n2026-11-02T10:00:00,2\n"
    record = forecasting.history_import(actor=desk["boss"], workspace=workspace, data=data, queue=desk["queue"])
    assert record.status == ImportStatus.REJECTED
    assert [e["line"] for e in record.errors] == [3, 4]
    assert bytes(record.raw) == data  # kept as received
    assert not VolumePoint.objects.filter(queue=desk["queue"]).exists()
    assert "3" in forecasting.describe_import_error(record.errors[0])


def test_gb18030_file_with_a_queue_column(workspace, desk):
    rows = "时间,数量,队列\n2026-11-02 09:00,5,Billing mail\n2026-11-02 09:30,7,Billing mail\n"
    record = forecasting.history_import(actor=desk["boss"], workspace=workspace, data=rows.encode("gb18030"))
    assert record.status == ImportStatus.IMPORTED, record.errors
    assert sum(VolumePoint.objects.filter(queue=desk["queue"]).values_list("count", flat=True)) == 12
    unknown = "2026-11-02 09:00,5,无此队列\n".encode("gb18030")
    bad = forecasting.history_import(actor=desk["boss"], workspace=workspace, data=unknown)
    assert bad.status == ImportStatus.REJECTED and bad.errors[0]["code"] == "unknown_queue"


def test_only_supervisors_plan(workspace, agent, desk):
    with pytest.raises(PermissionDenied):
        forecasting.history_import(actor=Actor.for_agent(agent), workspace=workspace, data=b"x", queue=desk["queue"])
    assert not HistoryImport.objects.exists()


def test_forecast_requirement_roster_publish_and_replan(workspace, desk):
    boss, queue = desk["boss"], desk["queue"]
    forecasting.history_import(actor=boss, workspace=workspace, data=_history_csv(workspace), queue=queue)
    forecast = forecasting.forecast_refresh(actor=boss, queue=queue)
    assert forecast.status == ForecastStatus.READY and forecast.points
    assert forecast.backtest["wape"] is not None
    assert all(p[2] <= p[1] <= p[3] for p in forecast.points)  # lo ≤ mean ≤ hi
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    today = dt.datetime.now(tz).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    points = forecasting.forecast_points(
        queue,
        dt.datetime.combine(monday, dt.time(), tz),
        dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(), tz),
    )
    needs = forecasting.requirement(queue, points)
    assert needs and max(n.scheduled for n in needs) >= 1

    draft = rosters.roster_generate(actor=boss, workspace=workspace, start_date=monday, days=5, seconds=10)
    assert draft.status == RosterStatus.DRAFT and draft.version == 1
    report = draft.solver
    assert report["status"] in {"optimal", "feasible"} and "billing" in report["skills"]
    shifts = list(draft.shifts.all())
    assert shifts and all(s.skill_id == desk["billing"].pk or s.skill_id is None for s in shifts)
    # the stored roster passes the independent checker
    setup = build(workspace, monday, 5, shifts=shifts)
    assert rules.check_roster(setup.workforce, setup.shifts) == []
    lunches = [s for s in shifts if s.template and s.template.name == "Day"]
    assert all(s.break_start is not None and s.start < s.break_start < s.end for s in lunches)

    published = rosters.roster_publish(actor=boss, roster=draft)
    assert published.status == RosterStatus.PUBLISHED
    assert Notification.objects.filter(kind="workforce.roster").count() == len({s.agent_id for s in shifts})
    assert EventRecord.objects.filter(name="workforce.roster_published").exists()
    with pytest.raises(ValidationFailed):
        rosters.roster_publish(actor=boss, roster=published)

    replan = rosters.roster_replan(actor=boss, roster=published, seconds=10)
    assert replan.version == 2 and replan.based_on_id == published.pk
    assert replan.solver["changes"] <= 2  # nothing changed: (almost) the same roster
    rosters.roster_publish(actor=boss, roster=replan)
    published.refresh_from_db()
    assert published.status == RosterStatus.SUPERSEDED


def test_infeasible_rules_are_explained(workspace, desk):
    boss = desk["boss"]
    impossible = contract(workspace, name="Impossible", min_hours_week=60, max_hours_week=60, min_days_off_week=3)
    config.profile_update(actor=boss, agent=desk["agents"][0], contract=impossible.pk)
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    today = dt.datetime.now(tz).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    with pytest.raises(ValidationFailed) as err:
        rosters.roster_generate(actor=boss, workspace=workspace, start_date=monday, days=7, seconds=10)
    assert err.value.code == "infeasible"
    assert desk["agents"][0].name in str(err.value)


def test_bad_periods_and_values_are_readable(workspace, desk):
    boss = desk["boss"]
    for start, days in (("2026-13-01", 7), ("2026-12-07", 0), ("2026-12-07", 99), (None, 7)):
        with pytest.raises(ValidationFailed):
            rosters.roster_generate(actor=boss, workspace=workspace, start_date=start, days=days)
    with pytest.raises(ValidationFailed):
        config.template_save(
            actor=boss, workspace=workspace, fields={"name": "Bad", "start_time": "25:00", "length_minutes": 480}
        )
    with pytest.raises(ValidationFailed):
        config.template_save(
            actor=boss,
            workspace=workspace,
            fields={
                "name": "Lunch outside",
                "start_time": "09:00",
                "length_minutes": 240,
                "unpaid_break_minutes": 60,
                "break_earliest_minutes": 200,
                "break_latest_minutes": 230,
            },
        )
    with pytest.raises(ValidationFailed):
        config.contract_save(
            actor=boss, workspace=workspace, fields={"name": "Upside down", "min_hours_week": 50, "max_hours_week": 20}
        )
    with pytest.raises(ValidationFailed):
        config.queue_create(actor=boss, workspace=workspace, fields={"name": "X", "channel_types": ["fax"]})
    with pytest.raises(ValidationFailed):
        config.forecast_event_create(
            actor=boss,
            workspace=workspace,
            name="双十一",
            start=dt.datetime(2026, 11, 11, 14, tzinfo=dt.UTC),
            end=dt.datetime(2026, 11, 11, 13, tzinfo=dt.UTC),
            multiplier=5,
        )


def test_manual_shift_edit_refuses_a_broken_rule_unless_forced(workspace, desk):
    boss = desk["boss"]
    a = desk["agents"][0]
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    r = rosters.Roster.objects.create(
        workspace=workspace, start_date=dt.date(2026, 12, 7), end_date=dt.date(2026, 12, 13)
    )
    first = dt.datetime(2026, 12, 7, 14, tzinfo=tz)
    rosters.shift_save(actor=boss, roster=r, agent=a, start=first, end=first + dt.timedelta(hours=8))
    early = dt.datetime(2026, 12, 8, 6, tzinfo=tz)  # 8 h after the last one ended: rest rule (11 h)
    with pytest.raises(ValidationFailed) as err:
        rosters.shift_save(actor=boss, roster=r, agent=a, start=early, end=early + dt.timedelta(hours=8))
    assert err.value.code == "rules_broken"
    _shift, broken = rosters.shift_save(
        actor=boss, roster=r, agent=a, start=early, end=early + dt.timedelta(hours=8), force=True
    )
    assert any(v["rule"] == "min_rest" for v in broken)
    assert Shift.objects.filter(roster=r, agent=a).count() == 2
