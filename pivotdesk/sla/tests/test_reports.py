"""SLA compliance report figures on a hand-built set of outcomes, and breach causes from the ticket's timeline."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pivotdesk.accounts.models import AgentStatus
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.sla.models import SLAOutcome, SLAPolicy
from pivotdesk.sla.reports import DateRange, breaches, compliance, csv_rows
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOV = DateRange(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), time_zone="Asia/Shanghai")


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def _outcome(
    ticket: Ticket,
    *,
    metric="first_reply",
    achieved=True,
    finished=None,
    policy=None,
    team=None,
    priority="normal",
    channel="email",
    started=None,
    due=None,
    fulfilled=None,
    cycle=0,
) -> SLAOutcome:
    finished = finished or _at(10, 12)
    return SLAOutcome.objects.create(
        workspace=ticket.workspace,
        ticket=ticket,
        policy=policy,
        policy_name=policy.name if policy else "",
        metric=metric,
        cycle=cycle,
        priority=priority,
        team=team,
        channel=channel,
        target_minutes=60,
        started_at=started or finished - dt.timedelta(hours=1),
        due_at=due or finished,
        fulfilled_at=fulfilled if fulfilled is not None else (finished if achieved else None),
        breached_at=None if achieved else (due or finished),
        achieved=achieved,
        finished_at=finished,
    )


@pytest.fixture
def data(workspace, contact):
    """Ten outcomes in November (7 achieved), one in October and one in another workspace (both not counted)."""
    vip = SLAPolicy.objects.create(workspace=workspace, name="VIP", position=0)
    std = SLAPolicy.objects.create(workspace=workspace, name="Standard", position=1)
    billing = TeamFactory(workspace=workspace, name="Billing")
    support = TeamFactory(workspace=workspace, name="Support")
    tickets = [make_ticket(workspace=workspace, requester=contact, subject=f"T{i}") for i in range(10)]
    plan = [
        # policy, team, priority, channel, achieved, day
        (vip, billing, "urgent", "email", True, 1),
        (vip, billing, "urgent", "email", False, 1),
        (vip, billing, "high", "wechat", True, 2),
        (vip, support, "high", "wechat", True, 2),
        (std, support, "normal", "email", True, 3),
        (std, support, "normal", "email", True, 3),
        (std, support, "normal", "chat", False, 3),
        (std, None, "low", "chat", True, 30),
        (std, None, "low", "chat", True, 30),
        (std, None, "low", "email", False, 30),
    ]
    for t, (policy, team, priority, channel, achieved, day) in zip(tickets, plan, strict=True):
        _outcome(
            t, policy=policy, team=team, priority=priority, channel=channel, achieved=achieved, finished=_at(day, 10)
        )
    # 1 November 00:30 in Shanghai is still 31 October in UTC: counted in November (local days).
    early = make_ticket(workspace=workspace, requester=contact, subject="early")
    _outcome(early, policy=vip, team=billing, priority="urgent", achieved=True, finished=_at(1, 0, 30))
    # 31 October 23:30 local: not in November.
    october = make_ticket(workspace=workspace, requester=contact, subject="october")
    _outcome(october, policy=vip, achieved=False, finished=_at(1, 0) - dt.timedelta(minutes=30))
    return {"vip": vip, "std": std, "billing": billing, "support": support}


def _by(report, dimension):
    return {s.key: (s.total, s.achieved, s.percent) for s in report.by[dimension]}


def test_overall_and_breakdowns_have_exact_percentages(workspace, other_workspace, data):
    other = make_ticket(workspace=other_workspace, subject="other tenant")
    _outcome(other, achieved=False, finished=_at(2, 10))
    report = compliance(workspace=workspace, period=NOV)
    assert (report.overall.total, report.overall.achieved, report.overall.percent) == (11, 8, 72.7)
    assert _by(report, "policy") == {"VIP": (5, 4, 80.0), "Standard": (6, 4, 66.7)}
    assert _by(report, "team") == {"Billing": (4, 3, 75.0), "Support": (4, 3, 75.0), "": (3, 2, 66.7)}
    assert _by(report, "priority") == {
        "urgent": (3, 2, 66.7),
        "high": (2, 2, 100.0),
        "normal": (3, 2, 66.7),
        "low": (3, 2, 66.7),
    }
    assert _by(report, "channel") == {"email": (6, 4, 66.7), "wechat": (2, 2, 100.0), "chat": (3, 2, 66.7)}
    # worst first
    assert [s.key for s in report.by["policy"]] == ["Standard", "VIP"]


def test_daily_series_uses_local_days_and_covers_every_day(workspace, data):
    report = compliance(workspace=workspace, period=NOV)
    assert len(report.daily) == 30
    days = {d.day: (s.total, s.achieved, s.percent) for d, s in report.daily}
    assert days[1] == (3, 2, 66.7)  # includes 00:30 local (still 31 October in UTC)
    assert days[2] == (2, 2, 100.0)
    assert days[3] == (3, 2, 66.7)
    assert days[30] == (3, 2, 66.7)
    assert days[15] == (0, 0, None)  # nothing counted is "no data", not 0 % or 100 %


def test_metric_filter(workspace, contact, data):
    t = make_ticket(workspace=workspace, requester=contact)
    _outcome(t, metric="resolution", achieved=False, finished=_at(5, 9))
    _outcome(t, metric="next_reply", achieved=True, finished=_at(5, 9))
    report = compliance(workspace=workspace, period=NOV, metric="resolution")
    assert (report.overall.total, report.overall.achieved, report.overall.percent) == (1, 0, 0.0)
    assert _by(compliance(workspace=workspace, period=NOV), "metric")["next_reply"] == (1, 1, 100.0)
    with pytest.raises(ValidationFailed):
        compliance(workspace=workspace, period=NOV, metric="bogus")


def test_empty_range_has_no_percentage(workspace):
    report = compliance(workspace=workspace, period=NOV)
    assert report.overall.total == 0 and report.overall.percent is None
    assert report.by["policy"] == []


def test_date_range_parsing():
    r = DateRange.parse(None, None, time_zone="Asia/Shanghai", today=dt.date(2026, 11, 30))
    assert (r.start, r.end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert r.since == _at(1, 0) and r.until == dt.datetime(2026, 12, 1, tzinfo=SH)
    for bad in (("2026-11-31", "2026-12-01"), ("2026-12-01", "2026-11-01"), ("2024-01-01", "2026-01-01"), ("x", "")):
        with pytest.raises(ValidationFailed):
            DateRange.parse(*bad, time_zone="Asia/Shanghai")


def _event(ticket, at, verb, old=None, new=None):
    field = {"status_changed": "status", "assigned": "assignee"}[verb]
    return TicketEvent.objects.create(
        workspace=ticket.workspace,
        ticket=ticket,
        created_at=at,
        actor_type="system",
        verb=verb,
        field=field,
        old_value=old,
        new_value=new,
    )


def test_breach_causes_from_the_timeline(workspace, contact, data):
    li = AgentFactory(workspace=workspace, user__display_name="李伟")
    Ticket.objects.filter(workspace=workspace).delete()  # only this breach in the range
    ticket = make_ticket(workspace=workspace, requester=contact, subject="late one")
    TicketEvent.objects.filter(ticket=ticket).delete()
    # Clock 09:00 → due 10:00; unassigned until 12:00, pending 12:30–13:00, fulfilled 13:30 (3 h 30 m late).
    _event(ticket, _at(12, 12), "assigned", None, {"id": li.pk, "name": "李伟"})
    _event(ticket, _at(12, 12), "status_changed", "new", "open")
    _event(ticket, _at(12, 12, 30), "status_changed", "open", "pending")
    _event(ticket, _at(12, 13), "status_changed", "pending", "open")
    _outcome(
        ticket,
        policy=data["vip"],
        achieved=False,
        started=_at(12, 9),
        due=_at(12, 10),
        fulfilled=_at(12, 13, 30),
        finished=_at(12, 10),
    )
    [breach] = breaches(workspace=workspace, period=NOV)
    assert breach.fulfilled and breach.late_seconds == 3.5 * 3600
    causes = {c.kind: c for c in breach.causes}
    assert causes["unassigned"].seconds == 3 * 3600
    assert causes["paused"].seconds == 30 * 60
    assert causes["status_path"].path == (("new", 3 * 3600), ("open", 1800), ("pending", 1800), ("open", 1800))
    assert causes["late"].seconds == 3.5 * 3600
    assert "reassigned" not in causes and "assignee_away" not in causes


def test_breach_causes_offline_assignee_and_reassignments(workspace, contact):
    Ticket.objects.filter(workspace=workspace).delete()
    a = AgentFactory(workspace=workspace, user__display_name="王芳", status=AgentStatus.ONLINE)
    b = AgentFactory(
        workspace=workspace, user__display_name="李伟", status=AgentStatus.OFFLINE, status_changed_at=_at(12, 8)
    )
    ticket = make_ticket(workspace=workspace, requester=contact)
    TicketEvent.objects.filter(ticket=ticket).delete()
    _event(ticket, _at(12, 9, 5), "assigned", None, {"id": a.pk})
    _event(ticket, _at(12, 9, 30), "assigned", {"id": a.pk}, {"id": b.pk})
    _outcome(ticket, achieved=False, started=_at(12, 9), due=_at(12, 10), fulfilled=None, finished=_at(12, 10))
    [breach] = breaches(workspace=workspace, period=NOV)
    causes = {c.kind: c for c in breach.causes}
    assert not breach.fulfilled and "still_open" in causes
    assert causes["reassigned"].count == 1
    assert causes["assignee_away"].name == "李伟" and causes["assignee_away"].at == _at(12, 8)
    assert causes["paused"].seconds == 0
    assert causes["unassigned"].seconds == 5 * 60  # 09:00–09:05, before the first assignment


def test_breach_list_is_scoped_and_limited(workspace, other_workspace, contact, data):
    other = make_ticket(workspace=other_workspace, subject="other tenant")
    _outcome(other, achieved=False, finished=_at(2, 10))
    listed = breaches(workspace=workspace, period=NOV)
    assert len(listed) == 3 and all(b.outcome.workspace_id == workspace.pk for b in listed)
    assert [b.outcome.finished_at for b in listed] == sorted((b.outcome.finished_at for b in listed), reverse=True)
    assert len(breaches(workspace=workspace, period=NOV, limit=2)) == 2


def test_breaches_cost_a_constant_number_of_queries(workspace, contact, data, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        breaches(workspace=workspace, period=NOV)


def test_csv_rows(workspace, data):
    rows = list(csv_rows(workspace=workspace, period=NOV))
    assert rows[0][:4] == ["ticket", "subject", "policy", "metric"]
    assert len(rows) == 12
    body = rows[1:]
    assert sum(1 for r in body if r[12] == "no") == 3
    assert {r[2] for r in body} == {"VIP", "Standard"}
