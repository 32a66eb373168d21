"""The SLA in the agent workspace: badges on the queue and the ticket, sort by deadline, settings, the report."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.sla.templatetags import display_state, duration_text

pytestmark = pytest.mark.django_db
# The browser test below runs Playwright's event loop in this thread; the test's own ORM calls stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = Path(os.environ.get("PIVOTDESK_SCREENSHOTS", "/tmp/pivotdesk-shots"))  # noqa: S108 - never in the repo


def _set_sla(ticket: Ticket, *, state: str, due_in: dt.timedelta | None) -> Ticket:
    # The SLA app maintains these columns; the UI only reads them, so the test writes them directly.
    due = now() + due_in if due_in is not None else None
    Ticket.objects.filter(pk=ticket.pk).update(sla_state=state, sla_due_at=due)
    ticket.refresh_from_db()
    return ticket


def _badge_of(html: str, number: int) -> str:
    row = re.search(rf'<tr class="qrow[^"]*"[^>]*data-number="{number}">(.*?)</tr>', html, re.S)
    assert row, f"no row for #{number}"
    cell = re.search(r'<td class="col-sla">(.*?)</td>', row.group(1), re.S)
    assert cell
    return cell.group(1)


# --- pure formatting -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2 * 3600 + 10 * 60 + 30, "2 h 10 m"),
        (3 * 3600, "3 h"),
        (45 * 60 + 59, "45 m"),
        (59, "0 m"),
        (-(35 * 60 + 20), "-35 m"),
        (-(26 * 3600 + 5 * 60), "-1 d 2 h"),
        (3 * 86400, "3 d"),
    ],
)
def test_duration_text(seconds, text):
    with translation.override("en"):
        assert duration_text(seconds) == text


def test_duration_text_in_chinese():
    with translation.override("zh-hans"):
        assert duration_text(2 * 3600 + 10 * 60) == "2 小时 10 分"
        assert duration_text(-35 * 60) == "-35 分"


def test_a_passed_deadline_shows_red_before_the_scanner_marks_it():
    at = now()
    assert display_state(state="ok", due_at=at - dt.timedelta(minutes=1), at=at) == "breached"
    assert display_state(state="warning", due_at=at + dt.timedelta(minutes=1), at=at) == "warning"
    assert display_state(state="paused", due_at=None, at=at) == "paused"
    assert display_state(state="", due_at=None, at=at) == ""


# --- queue ----------------------------------------------------------------------------------------------------------


def test_queue_badges_for_each_state(agent, workspace, contact, client_as):
    ok = _set_sla(
        make_ticket(workspace=workspace, requester=contact),
        state="ok",
        due_in=dt.timedelta(hours=2, minutes=10, seconds=30),
    )
    warn = _set_sla(
        make_ticket(workspace=workspace, requester=contact),
        state="warning",
        due_in=dt.timedelta(minutes=20, seconds=30),
    )
    late = _set_sla(
        make_ticket(workspace=workspace, requester=contact),
        state="breached",
        due_in=-dt.timedelta(minutes=35, seconds=30),
    )
    paused = _set_sla(make_ticket(workspace=workspace, requester=contact), state="paused", due_in=None)
    none = make_ticket(workspace=workspace, requester=contact)
    html = client_as(agent).get("/queue/?scope=all").content.decode()
    assert "sla-ok" in _badge_of(html, ok.number) and "2 h 10 m" in _badge_of(html, ok.number)
    assert "sla-warning" in _badge_of(html, warn.number) and "20 m" in _badge_of(html, warn.number)
    assert "sla-breached" in _badge_of(html, late.number) and "-35 m" in _badge_of(html, late.number)
    assert "sla-paused" in _badge_of(html, paused.number) and "Paused" in _badge_of(html, paused.number)
    assert "sla-none" in _badge_of(html, none.number)


def test_queue_badge_in_chinese(agent, workspace, contact, client_as):
    late = _set_sla(
        make_ticket(workspace=workspace, requester=contact),
        state="breached",
        due_in=-dt.timedelta(hours=1, minutes=5, seconds=30),
    )
    paused = _set_sla(make_ticket(workspace=workspace, requester=contact), state="paused", due_in=None)
    html = client_as(agent, "zh-hans").get("/queue/?scope=all").content.decode()
    assert "-1 小时 5 分" in _badge_of(html, late.number)
    assert "已暂停" in _badge_of(html, paused.number)


def test_queue_sorts_by_next_deadline_with_no_deadline_last(agent, workspace, contact, client_as):
    later = _set_sla(
        make_ticket(workspace=workspace, requester=contact, subject="later"), state="ok", due_in=dt.timedelta(hours=5)
    )
    none = make_ticket(workspace=workspace, requester=contact, subject="none")
    overdue = _set_sla(
        make_ticket(workspace=workspace, requester=contact, subject="overdue"),
        state="breached",
        due_in=-dt.timedelta(hours=1),
    )
    soon = _set_sla(
        make_ticket(workspace=workspace, requester=contact, subject="soon"),
        state="warning",
        due_in=dt.timedelta(minutes=10),
    )
    client = client_as(agent)

    def order(sort: str) -> list[int]:
        html = client.get(f"/queue/?scope=all&sort={sort}").content.decode()
        return [int(n) for n in re.findall(r'class="qrow[^"]*"[^>]*data-number="(\d+)"', html)]

    assert order("sla_due_at") == [overdue.number, soon.number, later.number, none.number]
    assert order("-sla_due_at") == [later.number, soon.number, overdue.number, none.number]
    rows = client.get("/queue/rows/?scope=all&sort=sla_due_at").content.decode()
    assert rows.index(f'data-number="{overdue.number}"') < rows.index(f'data-number="{soon.number}"')


def test_queue_header_offers_the_deadline_sort(agent, workspace, contact, client_as):
    html = client_as(agent).get("/queue/?scope=all").content.decode()
    assert 'href="?scope=all&amp;sort=sla_due_at"' in html


def test_saved_view_keeps_the_deadline_sort(agent, workspace, contact, client_as):
    client = client_as(agent)
    response = client.post("/views/new/?scope=all&sort=sla_due_at", {"name": "Due soon"})
    assert response.status_code == 302
    opened = client.get(response["Location"])
    assert "sort=sla_due_at" in opened["Location"]
    assert client.get(opened["Location"]).status_code == 200


def test_queue_badges_cost_no_query_per_row(agent, workspace, contact, django_assert_max_num_queries, client_as):
    client = client_as(agent)
    _set_sla(make_ticket(workspace=workspace, requester=contact), state="ok", due_in=dt.timedelta(hours=1))
    with django_assert_max_num_queries(100) as few:
        client.get("/queue/?scope=all&sort=sla_due_at")
    for i in range(12):
        _set_sla(
            make_ticket(workspace=workspace, requester=contact),
            state=["ok", "warning", "breached", "paused"][i % 4],
            due_in=dt.timedelta(minutes=i - 6),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/queue/?scope=all&sort=sla_due_at")


# --- ticket page ----------------------------------------------------------------------------------------------------


def _clock(ticket, metric, *, state="running", due_in=None, paused=False, elapsed=0, target=60, breached=False):
    from pivotdesk.sla.models import TicketSLA

    due = now() + due_in if due_in is not None else None
    return TicketSLA.objects.update_or_create(
        ticket=ticket,
        metric=metric,
        defaults={
            "workspace": ticket.workspace,
            "target_minutes": target,
            "started_at": now() - dt.timedelta(minutes=5),
            "due_at": due,
            "paused": paused,
            "elapsed_seconds": elapsed,
            "state": state,
            "breached_at": due if breached else None,
        },
    )[0]


def test_ticket_page_shows_one_badge_per_running_clock(agent, workspace, contact, client_as):
    ticket = make_ticket(workspace=workspace, requester=contact)
    _clock(ticket, "first_reply", state="breached", due_in=-dt.timedelta(minutes=12, seconds=30), breached=True)
    _clock(ticket, "resolution", due_in=dt.timedelta(hours=5, minutes=3, seconds=30))
    _clock(ticket, "next_reply", state="fulfilled", due_in=dt.timedelta(hours=1))
    _clock(ticket, "periodic_update", state="idle")
    html = client_as(agent).get(f"/tickets/{ticket.number}/").content.decode()
    badges = re.search(r'<span id="sla-badges"[^>]*>(.*?)</span>\s*<span class="chan">', html, re.S).group(1)
    assert "sla-breached" in badges and "First reply" in badges and "-12 m" in badges
    assert "sla-ok" in badges and "Resolution" in badges and "5 h 3 m" in badges
    assert "Next reply" not in badges and "Periodic update" not in badges  # fulfilled / idle clocks are not shown
    assert "due " in badges  # the due time on hover


def test_ticket_badges_paused_and_warning_and_chinese(agent, workspace, contact, client_as):
    ticket = make_ticket(workspace=workspace, requester=contact)
    due = dt.timedelta(minutes=8, seconds=30)
    _clock(ticket, "first_reply", due_in=due)
    _clock(ticket, "resolution", state="paused", paused=True, elapsed=20 * 60, target=90)
    _set_sla(ticket, state="warning", due_in=None)
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_clocks.get(metric="first_reply").due_at)
    html = client_as(agent, "zh-hans").get(f"/tickets/{ticket.number}/sla/").content.decode()
    assert "sla-warning" in html and "首次响应" in html and "8 分" in html
    assert "sla-paused" in html and "⏸ 1 小时 10 分" in html


def test_ticket_badges_of_another_workspace_are_not_found(agent, other_workspace, client_as):
    other = make_ticket(workspace=other_workspace)
    assert client_as(agent).get(f"/tickets/{other.number}/sla/").status_code == 404


# --- report ---------------------------------------------------------------------------------------------------------


def _outcome(ticket, *, achieved, finished, metric="first_reply", policy_name="VIP", fulfilled=True):
    from pivotdesk.sla.models import SLAOutcome

    return SLAOutcome.objects.create(
        workspace=ticket.workspace,
        ticket=ticket,
        policy_name=policy_name,
        metric=metric,
        priority=ticket.priority,
        channel=ticket.channel,
        target_minutes=60,
        started_at=finished - dt.timedelta(hours=2),
        due_at=finished - dt.timedelta(hours=1) if not achieved else finished + dt.timedelta(minutes=5),
        fulfilled_at=finished if (achieved or fulfilled) else None,
        breached_at=None if achieved else finished - dt.timedelta(hours=1),
        achieved=achieved,
        finished_at=finished,
    )


def test_report_for_supervisors_with_figures_chart_and_breaches(supervisor, workspace, contact, client_as):
    a = make_ticket(workspace=workspace, requester=contact, subject="met one")
    b = make_ticket(workspace=workspace, requester=contact, subject="missed one")
    c = make_ticket(workspace=workspace, requester=contact, subject="met two")
    yesterday = now() - dt.timedelta(days=1)
    _outcome(a, achieved=True, finished=yesterday)
    _outcome(b, achieved=False, finished=yesterday)
    _outcome(c, achieved=True, finished=yesterday, policy_name="Standard")
    response = client_as(supervisor).get("/sla/report/")
    assert response.status_code == 200
    html = response.content.decode()
    overall = re.search(r'id="sla-overall"><div class="v">([^<]*)<', html).group(1)
    assert overall == "66.7%"
    by_policy = re.search(r'id="sla-by-policy">(.*?)</table>', html, re.S).group(1)
    assert "Standard" in by_policy and "100.0%" in by_policy and "VIP" in by_policy and "50.0%" in by_policy
    assert html.count('<rect class="bar') == 30  # one bar per day of the default 30 days
    breaches = re.search(r'id="sla-breaches">(.*?)</table>', html, re.S).group(1)
    assert "missed one" in breaches and f"/tickets/{b.number}/" in breaches and "met one" not in breaches
    assert "fulfilled 1 h 0 m late" in breaches or "fulfilled 1 h late" in breaches


def test_report_csv_export(supervisor, workspace, contact, client_as):
    t = make_ticket(workspace=workspace, requester=contact, subject='发票, "quoted"')
    _outcome(t, achieved=False, finished=now() - dt.timedelta(days=2))
    response = client_as(supervisor).get("/sla/report/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("ticket,subject,policy,metric")
    assert f'{t.number},"发票, ""quoted""",VIP,first_reply' in lines[1] and lines[1].endswith(",no,60")


def test_report_refuses_agents_and_bad_ranges(agent, supervisor, client_as):
    assert client_as(agent).get("/sla/report/").status_code == 403
    client = client_as(supervisor)
    bad = {
        "start=2026-13-01": "Dates are written like 2026-11-01.",
        "start=2026-11-10&end=2026-11-01": "The range starts after it ends.",
        "start=2020-01-01&end=2026-01-01": "A report covers at most 366 days.",
        "metric=x": "Unknown metric",
    }
    for query, message in bad.items():
        response = client.get(f"/sla/report/?{query}")
        assert response.status_code == 422, query
        assert message in response.content.decode(), query
    assert "2026-11-01" in client.get("/sla/report/?start=2026-11-01&end=2026-11-20").content.decode()


def test_report_is_scoped_to_the_workspace(supervisor, other_workspace, client_as):
    other = make_ticket(workspace=other_workspace, subject="other tenant breach")
    _outcome(other, achieved=False, finished=now() - dt.timedelta(days=1))
    html = client_as(supervisor).get("/sla/report/").content.decode()
    assert "other tenant breach" not in html


# --- settings -------------------------------------------------------------------------------------------------------


CAL = {
    "name": "Shanghai office",
    "time_zone": "Asia/Shanghai",
    "hours_0": "09:00-12:00, 13:00-18:00",
    "hours_1": "9:00-12:00，13:00-18:00",
    "hours_2": "09:00-18:00",
    "hours_3": "09:00-18:00",
    "hours_4": "09:00-18:00",
    "hours_5": "",
    "hours_6": "",
    "country_holidays": "on",
    "country": "cn",
    "closed_dates": "2026-12-31",
    "working_dates": "2026-12-26 10:00-16:00",
    "is_default": "on",
}


def test_settings_are_for_admins_only(agent, supervisor, client_as):
    for who in (agent, supervisor):
        client = client_as(who)
        for url in ("/settings/sla/policies/", "/settings/sla/calendars/", "/settings/sla/calendars/new/"):
            assert client.get(url).status_code == 403, url


def test_calendar_create_with_lunch_break_holidays_and_preview(admin_agent, workspace, client_as):
    from pivotdesk.sla.models import BusinessCalendar

    client = client_as(admin_agent)
    response = client.post("/settings/sla/calendars/new/", CAL)
    assert response.status_code == 302
    cal = BusinessCalendar.objects.get(workspace=workspace)
    assert cal.weekly_hours["0"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert cal.weekly_hours["1"] == [["09:00", "12:00"], ["13:00", "18:00"]]  # 9:00 and a full-width comma
    assert "5" not in cal.weekly_hours and cal.country == "CN" and cal.is_default
    assert cal.closed_dates == ["2026-12-31"] and cal.working_dates == {"2026-12-26": [["10:00", "16:00"]]}
    html = client.get(response["Location"]).content.decode()
    assert 'id="sla-preview-days"' in html and html.count('<li><span class="mono">') == 10
    # Around the 2026 Spring Festival: Saturday 14 February is a make-up working day, 16–20 February are closed.
    preview = client.post("/settings/sla/calendars/preview/", {**CAL, "closed_dates": "", "working_dates": ""})
    assert preview.status_code == 200


def test_calendar_preview_of_spring_festival(admin_agent, workspace):
    from pivotdesk.sla.forms import business_days_preview
    from pivotdesk.sla.models import BusinessCalendar

    cal = BusinessCalendar(workspace=workspace, name="x", weekly_hours={str(d): [["09:00", "18:00"]] for d in range(5)})
    days, closed = business_days_preview(cal, start=dt.date(2026, 2, 12), count=4)
    assert [(d.day.isoformat(), d.note) for d in days] == [
        ("2026-02-12", ""),
        ("2026-02-13", ""),
        ("2026-02-14", "makeup"),  # a Saturday made a working day (调休)
        ("2026-02-24", ""),
    ]
    assert {c.day.isoformat() for c in closed} >= {"2026-02-16", "2026-02-23"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours_0", "9-18", "is not a range like 09:00-18:00"),
        ("hours_0", "09:00-12:00, 11:00-18:00", "The ranges overlap."),
        ("hours_0", "18:00-09:00", "A range ends before it starts."),
        ("hours_0", "09:00-25:00", "Times are between 00:00 and 24:00."),
        ("time_zone", "Mars/Olympus", "Unknown time zone"),
        ("country", "XX", "No public holidays are known"),
        ("closed_dates", "2026-02-30", "is not a date like 2026-10-10"),
        ("name", "", "This field is required."),
    ],
)
def test_calendar_bad_input_is_a_readable_422(workspace, field, value, message, admin_agent_client):
    from pivotdesk.sla.models import BusinessCalendar

    response = admin_agent_client.post("/settings/sla/calendars/new/", {**CAL, field: value}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.filter(workspace=workspace).exists()


def test_calendar_in_chinese(admin_agent, client_as):
    html = client_as(admin_agent, "zh-hans").get("/settings/sla/calendars/new/").content.decode()
    assert "工作日历" in html and "星期一" in html


def _policy_post(**extra):
    data = {"name": "VIP", "active": "on", "paused_statuses": ["pending", "on_hold"], "tiers": ["vip"], "e-count": "2"}
    data.update(
        {
            "t-urgent-first_reply-amount": "30m",
            "t-urgent-first_reply-business": "on",
            "t-urgent-first_reply-warn": "75%, 90%, 10m",
            "t-normal-resolution-amount": "2 小时",
            "t-normal-resolution-warn": "",
            "t-high-next_reply-amount": "1.5h",
            "t-high-next_reply-business": "on",
            "t-high-next_reply-warn": "80%",
        }
    )
    data.update(extra)
    return data


def test_policy_create_with_targets_grid_and_escalation(admin_agent, workspace, client_as):
    from pivotdesk.accounts.tests.factories import AgentFactory
    from pivotdesk.sla.models import SLAPolicy

    lead = AgentFactory(workspace=workspace)
    data = _policy_post(
        **{
            "e-0-level": "1",
            "e-0-metric": "",
            "e-0-after": "0",
            "e-0-notify": ["assignee", "team_lead"],
            "e-0-tag": "SLA-Escalated",
            "e-1-level": "2",
            "e-1-metric": "resolution",
            "e-1-after": "30m",
            "e-1-notify_agents": [str(lead.pk)],
            "e-1-raise_priority": "step",
        }
    )
    response = client_as(admin_agent).post("/settings/sla/policies/new/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/settings/sla/policies/")
    policy = SLAPolicy.objects.get(workspace=workspace)
    assert policy.conditions == {"tiers": ["vip"]} and policy.paused_statuses == ["on_hold", "pending"]
    targets = {(t.priority, t.metric): t for t in policy.targets.all()}
    assert set(targets) == {("urgent", "first_reply"), ("normal", "resolution"), ("high", "next_reply")}
    fr = targets[("urgent", "first_reply")]
    assert (fr.minutes, fr.business_hours, fr.warn_at_percent, fr.warn_minutes_before) == (30, True, [75, 90], [10])
    res = targets[("normal", "resolution")]
    assert (res.minutes, res.business_hours, res.warn_at_percent) == (120, False, [])
    assert targets[("high", "next_reply")].minutes == 90
    levels = list(policy.escalations.order_by("level"))
    assert [(e.level, e.metric, e.minutes_after_breach) for e in levels] == [(1, "", 0), (2, "resolution", 30)]
    assert levels[0].actions == [
        {"type": "notify", "to": "assignee"},
        {"type": "notify", "to": "team_lead"},
        {"type": "add_tag", "tag": "sla-escalated"},
    ]
    assert levels[1].actions == [{"type": "notify", "to": "agents", "agents": [lead.pk]}, {"type": "raise_priority"}]
    # The edit page shows what was saved.
    html = client_as(admin_agent).get(f"/settings/sla/policies/{policy.pk}/").content.decode()
    assert 'value="30m"' in html and 'value="75%, 90%, 10m"' in html and 'value="2h"' in html


def test_a_policy_saved_in_the_settings_makes_the_scanner_recheck_open_tickets(
    admin_agent, workspace, ticket, client_as
):
    from pivotdesk.tickets.models import Ticket

    Ticket.objects.filter(pk=ticket.pk).update(sla_next_check_at=None)
    response = client_as(admin_agent).post("/settings/sla/policies/new/", _policy_post(), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at is not None  # the scanner re-matches it on its next pass


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"t-urgent-first_reply-amount": "soon"}, "is not a duration like 30m, 2h or 1d"),
        ({"t-urgent-first_reply-warn": "120%"}, "Warning percentages are between 1% and 99%."),
        ({"t-urgent-first_reply-warn": "45m"}, "must be shorter than the target"),
        ({"e-0-level": "1", "e-0-after": "30m"}, "Choose at least one action."),
        ({"e-0-level": "0", "e-0-notify": "assignee"}, "The level is a number from 1 to 9."),
        ({"e-0-level": "1", "e-0-tag": "x", "e-1-level": "1", "e-1-tag": "y"}, "Level 1 is defined twice"),
        ({"e-0-level": "1", "e-0-reassign_agent": "999999"}, "unknown agent"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_policy_bad_input_is_a_readable_422_and_saves_nothing(admin_agent, workspace, extra, message, client_as):
    from pivotdesk.sla.models import SLAPolicy

    response = client_as(admin_agent).post("/settings/sla/policies/new/", _policy_post(**extra))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not SLAPolicy.objects.filter(workspace=workspace).exists()


def test_the_blank_add_a_level_row_is_ignored(admin_agent, workspace, client_as):
    from pivotdesk.sla.models import SLAPolicy

    # The form always offers one extra level row with its number prefilled; left alone it adds nothing.
    data = _policy_post(**{"e-count": "1", "e-0-level": "1", "e-0-metric": "", "e-0-after": "0"})
    assert client_as(admin_agent).post("/settings/sla/policies/new/", data).status_code == 302
    assert SLAPolicy.objects.get(workspace=workspace).escalations.count() == 0


def test_policy_name_is_unique_and_order_moves(admin_agent, workspace, client_as):
    from pivotdesk.sla.models import SLAPolicy

    client = client_as(admin_agent)
    for name in ("A", "B", "C"):
        assert client.post("/settings/sla/policies/new/", _policy_post(name=name)).status_code == 302
    assert (
        "Another policy already has this name."
        in client.post("/settings/sla/policies/new/", _policy_post(name="A")).content.decode()
    )

    def order():
        return list(SLAPolicy.objects.filter(workspace=workspace).order_by("position").values_list("name", flat=True))

    assert order() == ["A", "B", "C"]
    c = SLAPolicy.objects.get(workspace=workspace, name="C")
    assert client.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "up"}).status_code == 302
    assert order() == ["A", "C", "B"]
    client.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "up"})
    client.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "up"})  # already first: stays
    assert order() == ["C", "A", "B"]
    assert client.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "sideways"}).status_code == 422
    html = client.get("/settings/sla/policies/").content.decode()
    assert html.index('data-policy="C"') < html.index('data-policy="A"') < html.index('data-policy="B"')


def test_policy_edit_replaces_targets_and_levels(admin_agent, workspace, client_as):
    from pivotdesk.sla.models import SLAPolicy

    client = client_as(admin_agent)
    client.post("/settings/sla/policies/new/", _policy_post(**{"e-0-level": "1", "e-0-tag": "late"}))
    policy = SLAPolicy.objects.get(workspace=workspace)
    data = _policy_post(
        **{"t-normal-resolution-amount": "", "e-count": "1", "e-0-level": "1", "e-0-tag": "late", "e-0-delete": "on"}
    )
    assert client.post(f"/settings/sla/policies/{policy.pk}/", data).status_code == 302
    assert not policy.targets.filter(metric="resolution").exists() and policy.targets.count() == 2
    assert policy.escalations.count() == 0


def test_settings_objects_of_another_workspace_are_not_found(admin_agent, other_workspace, client_as):
    from pivotdesk.sla.models import BusinessCalendar, SLAPolicy

    cal = BusinessCalendar.objects.create(workspace=other_workspace, name="theirs")
    pol = SLAPolicy.objects.create(workspace=other_workspace, name="theirs")
    client = client_as(admin_agent)
    assert client.get(f"/settings/sla/calendars/{cal.pk}/").status_code == 404
    assert client.post(f"/settings/sla/calendars/{cal.pk}/delete/").status_code == 404
    assert client.get(f"/settings/sla/policies/{pol.pk}/").status_code == 404
    assert client.post(f"/settings/sla/policies/{pol.pk}/move/", {"direction": "up"}).status_code == 404
    assert client.post(f"/settings/sla/policies/{pol.pk}/delete/").status_code == 404
    assert BusinessCalendar.objects.filter(pk=cal.pk).exists() and SLAPolicy.objects.filter(pk=pol.pk).exists()


# --- in a real browser ----------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_queue_shows_a_red_badge_on_a_breached_ticket(chromium: Any, live_server: Any, workspace, contact):
    from playwright.sync_api import expect

    from pivotdesk.accounts.models import Role
    from pivotdesk.web.tests.helpers import new_agent, new_user

    admin = new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="slaadmin", display_name="王芳"))
    late = make_ticket(workspace=workspace, requester=contact, subject="打印机坏了，急需维修", priority="urgent")
    _set_sla(late, state="breached", due_in=-dt.timedelta(minutes=35, seconds=30))
    _clock(late, "first_reply", state="breached", due_in=-dt.timedelta(minutes=35, seconds=30), breached=True)
    _clock(late, "resolution", due_in=dt.timedelta(hours=3, minutes=20))
    fine = make_ticket(workspace=workspace, requester=contact, subject="Invoice title question")
    _set_sla(fine, state="ok", due_in=dt.timedelta(hours=2, minutes=10, seconds=30))
    soon = make_ticket(workspace=workspace, requester=contact, subject="Cannot log in")
    _set_sla(soon, state="warning", due_in=dt.timedelta(minutes=12, seconds=30))
    _set_sla(
        make_ticket(workspace=workspace, requester=contact, subject="Waiting for the customer"),
        state="paused",
        due_in=None,
    )
    for i, achieved in enumerate([True, True, False, True]):
        _outcome(
            late if not achieved else fine,
            achieved=achieved,
            finished=now() - dt.timedelta(days=i + 1),
            metric=["first_reply", "resolution", "next_reply", "periodic_update"][i],
        )

    context = chromium.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", admin.user.username)
    page.fill("input[name=password]", "pivotdesk-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")

    page.goto(f"{base}/queue/?scope=all&sort=sla_due_at")
    badge = page.locator(f'tr[data-number="{late.number}"] .sla-badge')
    expect(badge).to_have_class(re.compile(r"\bsla-breached\b"), timeout=15_000)
    expect(badge).to_have_text("-35 m")
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(217, 45, 32)"
    expect(page.locator("#queue-rows tr.qrow").first).to_have_attribute("data-number", str(late.number))
    expect(page.locator(f'tr[data-number="{soon.number}"] .sla-badge')).to_have_class(re.compile("sla-warning"))
    _shot(page, "sla-queue.png")

    page.goto(f"{base}/tickets/{late.number}/")
    expect(page.locator("#sla-badges .sla-breached")).to_contain_text("First reply")
    expect(page.locator("#sla-badges .sla-ok")).to_contain_text("Resolution")
    _shot(page, "sla-ticket.png")

    page.goto(f"{base}/sla/report/")
    expect(page.locator("#sla-overall .v")).to_have_text("75.0%")
    expect(page.locator("#sla-breaches")).to_contain_text("打印机坏了")
    _shot(page, "sla-report.png")

    page.goto(f"{base}/settings/sla/calendars/new/")
    page.fill("input[name=name]", "上海办公室")
    page.fill("input[name=hours_0]", "09:00-12:00, 11:00-18:00")
    page.click("#sla-form button[type=submit]")
    expect(page.locator("#sla-form")).to_contain_text("The ranges overlap.")  # swapped in by HTMX, status 422
    page.fill("input[name=hours_0]", "09:00-12:00, 13:00-18:00")
    page.get_by_role("button", name="Preview the next 10 business days").click()
    expect(page.locator("#sla-preview-days li")).to_have_count(10)
    _shot(page, "sla-calendar.png")
    page.click("#sla-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/settings/sla/calendars/\d+/$"))
    expect(page.locator(".flash")).to_contain_text("saved")

    page.goto(f"{base}/settings/sla/policies/new/")
    page.fill("input[name=name]", "VIP")
    page.fill("input[name=t-urgent-first_reply-amount]", "30m")
    page.fill("input[name=t-urgent-resolution-amount]", "4h")
    _shot(page, "sla-policy.png")
    zh = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    zh_page = zh.new_page()
    zh_page.context.add_cookies(context.cookies())
    zh_page.goto(f"{base}/sla/report/")
    expect(zh_page.locator("h1")).to_have_text("SLA 达成率")
    _shot(zh_page, "sla-report-zh.png")
    zh.close()
    page.click("#sla-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/settings/sla/policies/\d+/$"))
    expect(page.locator("input[name=t-urgent-resolution-amount]")).to_have_value("4h")
    assert errors == []
    context.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_report_in_chinese(supervisor, workspace, contact, client_as):
    t = make_ticket(workspace=workspace, requester=contact)
    _outcome(t, achieved=False, finished=now() - dt.timedelta(days=1), metric="resolution")
    html = client_as(supervisor, "zh-hans").get("/sla/report/").content.decode()
    assert "SLA 达成率" in html and ">到<input" in html  # "To" of a date range, not "发往" (to a recipient)
    by_target = re.search(r'id="sla-by-metric">(.*?)</table>', html, re.S).group(1)
    assert "解决" in by_target and "0.0%" in by_target
    assert "尚未完成" not in html and "晚了 1 小时 完成" in html


# --- team calendars and failing checks (settings) ---------------------------------------------------------------


def test_team_calendars_are_chosen_on_the_calendars_page(admin_agent, workspace, other_workspace, ticket, client_as):
    from pivotdesk.accounts.tests.factories import TeamFactory
    from pivotdesk.sla.models import TeamCalendar
    from pivotdesk.sla.tests.factories import CalendarFactory

    default = CalendarFactory(workspace=workspace, name="China", is_default=True)
    night = CalendarFactory(workspace=workspace, name="Night shift")
    support, billing = (
        TeamFactory(workspace=workspace, name="Support"),
        TeamFactory(workspace=workspace, name="Billing"),
    )
    TeamCalendar.objects.create(workspace=workspace, team=billing, calendar=default)
    client = client_as(admin_agent)
    html = client.get("/settings/sla/calendars/").content.decode()
    section = re.search(r'id="team-calendars">(.*?)</section>', html, re.S).group(1)
    assert "Support" in section and "Billing" in section and "Workspace default (China)" in section
    assert re.search(rf'name="team_{billing.pk}">.*?<option value="{default.pk}" selected>', section, re.S)

    response = client.post("/settings/sla/calendars/", {f"team_{support.pk}": night.pk, f"team_{billing.pk}": ""})
    assert response.status_code == 302 and response["Location"].endswith("/settings/sla/calendars/#team-calendars")
    assert dict(TeamCalendar.objects.values_list("team__name", "calendar__name")) == {"Support": "Night shift"}
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at is not None  # saved through team_calendar_set: open tickets are rechecked
    html = client.get("/settings/sla/calendars/").content.decode()
    assert re.search(rf'name="team_{support.pk}">.*?<option value="{night.pk}" selected>', html, re.S)


@pytest.mark.parametrize("value", ["abc", "999999", "other-workspace"])
def test_a_team_calendar_that_is_not_listed_is_a_readable_422(
    admin_agent, workspace, other_workspace, value, client_as
):
    from pivotdesk.accounts.tests.factories import TeamFactory
    from pivotdesk.sla.models import TeamCalendar
    from pivotdesk.sla.tests.factories import CalendarFactory

    team = TeamFactory(workspace=workspace, name="Support")
    if value == "other-workspace":
        value = str(CalendarFactory(workspace=other_workspace).pk)
    response = client_as(admin_agent).post("/settings/sla/calendars/", {f"team_{team.pk}": value})
    assert response.status_code == 422
    assert "Support: choose one of the calendars listed." in response.content.decode()
    assert not TeamCalendar.objects.exists()


def test_team_calendars_are_for_admins_and_in_chinese(agent, admin_agent, workspace, client_as):
    from pivotdesk.accounts.tests.factories import TeamFactory

    team = TeamFactory(workspace=workspace, name="一线支持")
    assert client_as(agent).post("/settings/sla/calendars/", {f"team_{team.pk}": ""}).status_code == 403
    html = client_as(admin_agent, "zh-hans").get("/settings/sla/calendars/").content.decode()
    assert "团队日历" in html and "保存团队日历" in html and "工作区默认（全天候）" in html


def test_failing_checks_are_listed_for_admins_and_counted_on_the_report(
    admin_agent, supervisor, workspace, ticket, client_as
):
    from pivotdesk.sla.models import SLACheckFailure

    at = now()
    SLACheckFailure.objects.create(
        workspace=workspace,
        ticket=ticket,
        attempts=3,
        error="RuntimeError: calendar table is corrupt",
        first_failed_at=at,
        last_failed_at=at,
        retry_at=at + dt.timedelta(minutes=20),
    )
    html = client_as(admin_agent).get("/settings/sla/policies/").content.decode()
    section = re.search(r'id="sla-check-failures">(.*?)</section>', html, re.S).group(1)
    assert f"/tickets/{ticket.number}/" in section and "RuntimeError: calendar table is corrupt" in section
    report = client_as(supervisor).get("/sla/report/").content.decode()
    assert "The SLA check of 1 ticket fails" in report
    zh = client_as(supervisor, "zh-hans").get("/sla/report/").content.decode()
    assert "1 个工单的 SLA 检查失败" in zh
    SLACheckFailure.objects.update(resolved_at=at)
    assert 'id="sla-check-failures"' not in client_as(admin_agent).get("/settings/sla/policies/").content.decode()
    assert 'id="sla-failing-checks"' not in client_as(supervisor).get("/sla/report/").content.decode()
