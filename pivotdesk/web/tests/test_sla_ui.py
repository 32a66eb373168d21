"""The SLA in the agent workspace: badges on the queue and the ticket, sort by deadline, settings, the report."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.templatetags.sla_tags import display_state, duration_text
from pivotdesk.web.tests.helpers import client_for

pytestmark = pytest.mark.django_db


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


def test_queue_badges_for_each_state(agent, workspace, contact):
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
    html = client_for(agent).get("/queue/?scope=all").content.decode()
    assert "sla-ok" in _badge_of(html, ok.number) and "2 h 10 m" in _badge_of(html, ok.number)
    assert "sla-warning" in _badge_of(html, warn.number) and "20 m" in _badge_of(html, warn.number)
    assert "sla-breached" in _badge_of(html, late.number) and "-35 m" in _badge_of(html, late.number)
    assert "sla-paused" in _badge_of(html, paused.number) and "Paused" in _badge_of(html, paused.number)
    assert "sla-none" in _badge_of(html, none.number)


def test_queue_badge_in_chinese(agent, workspace, contact):
    late = _set_sla(
        make_ticket(workspace=workspace, requester=contact),
        state="breached",
        due_in=-dt.timedelta(hours=1, minutes=5, seconds=30),
    )
    paused = _set_sla(make_ticket(workspace=workspace, requester=contact), state="paused", due_in=None)
    html = client_for(agent, "zh-hans").get("/queue/?scope=all").content.decode()
    assert "-1 小时 5 分" in _badge_of(html, late.number)
    assert "已暂停" in _badge_of(html, paused.number)


def test_queue_sorts_by_next_deadline_with_no_deadline_last(agent, workspace, contact):
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
    client = client_for(agent)

    def order(sort: str) -> list[int]:
        html = client.get(f"/queue/?scope=all&sort={sort}").content.decode()
        return [int(n) for n in re.findall(r'class="qrow[^"]*"[^>]*data-number="(\d+)"', html)]

    assert order("sla_due_at") == [overdue.number, soon.number, later.number, none.number]
    assert order("-sla_due_at") == [later.number, soon.number, overdue.number, none.number]
    rows = client.get("/queue/rows/?scope=all&sort=sla_due_at").content.decode()
    assert rows.index(f'data-number="{overdue.number}"') < rows.index(f'data-number="{soon.number}"')


def test_queue_header_offers_the_deadline_sort(agent, workspace, contact):
    html = client_for(agent).get("/queue/?scope=all").content.decode()
    assert 'href="?scope=all&amp;sort=sla_due_at"' in html


def test_saved_view_keeps_the_deadline_sort(agent, workspace, contact):
    client = client_for(agent)
    response = client.post("/views/new/?scope=all&sort=sla_due_at", {"name": "Due soon"})
    assert response.status_code == 302
    opened = client.get(response["Location"])
    assert "sort=sla_due_at" in opened["Location"]
    assert client.get(opened["Location"]).status_code == 200


def test_queue_badges_cost_no_query_per_row(agent, workspace, contact, django_assert_max_num_queries):
    client = client_for(agent)
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


def test_ticket_page_shows_one_badge_per_running_clock(agent, workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact)
    _clock(ticket, "first_reply", state="breached", due_in=-dt.timedelta(minutes=12, seconds=30), breached=True)
    _clock(ticket, "resolution", due_in=dt.timedelta(hours=5, minutes=3, seconds=30))
    _clock(ticket, "next_reply", state="fulfilled", due_in=dt.timedelta(hours=1))
    _clock(ticket, "periodic_update", state="idle")
    html = client_for(agent).get(f"/tickets/{ticket.number}/").content.decode()
    badges = re.search(r'<span id="sla-badges"[^>]*>(.*?)</span>\s*<span class="chan">', html, re.S).group(1)
    assert "sla-breached" in badges and "First reply" in badges and "-12 m" in badges
    assert "sla-ok" in badges and "Resolution" in badges and "5 h 3 m" in badges
    assert "Next reply" not in badges and "Periodic update" not in badges  # fulfilled / idle clocks are not shown
    assert "due " in badges  # the due time on hover


def test_ticket_badges_paused_and_warning_and_chinese(agent, workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact)
    due = dt.timedelta(minutes=8, seconds=30)
    _clock(ticket, "first_reply", due_in=due)
    _clock(ticket, "resolution", state="paused", paused=True, elapsed=20 * 60, target=90)
    _set_sla(ticket, state="warning", due_in=None)
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_clocks.get(metric="first_reply").due_at)
    html = client_for(agent, "zh-hans").get(f"/tickets/{ticket.number}/sla/").content.decode()
    assert "sla-warning" in html and "首次响应" in html and "8 分" in html
    assert "sla-paused" in html and "⏸ 1 小时 10 分" in html


def test_ticket_badges_of_another_workspace_are_not_found(agent, other_workspace):
    other = make_ticket(workspace=other_workspace)
    assert client_for(agent).get(f"/tickets/{other.number}/sla/").status_code == 404


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


def test_report_for_supervisors_with_figures_chart_and_breaches(supervisor, workspace, contact):
    a = make_ticket(workspace=workspace, requester=contact, subject="met one")
    b = make_ticket(workspace=workspace, requester=contact, subject="missed one")
    c = make_ticket(workspace=workspace, requester=contact, subject="met two")
    yesterday = now() - dt.timedelta(days=1)
    _outcome(a, achieved=True, finished=yesterday)
    _outcome(b, achieved=False, finished=yesterday)
    _outcome(c, achieved=True, finished=yesterday, policy_name="Standard")
    response = client_for(supervisor).get("/sla/report/")
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


def test_report_csv_export(supervisor, workspace, contact):
    t = make_ticket(workspace=workspace, requester=contact, subject='发票, "quoted"')
    _outcome(t, achieved=False, finished=now() - dt.timedelta(days=2))
    response = client_for(supervisor).get("/sla/report/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("ticket,subject,policy,metric")
    assert f'{t.number},"发票, ""quoted""",VIP,first_reply' in lines[1] and lines[1].endswith(",no,60")


def test_report_refuses_agents_and_bad_ranges(agent, supervisor):
    assert client_for(agent).get("/sla/report/").status_code == 403
    client = client_for(supervisor)
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


def test_report_is_scoped_to_the_workspace(supervisor, other_workspace):
    other = make_ticket(workspace=other_workspace, subject="other tenant breach")
    _outcome(other, achieved=False, finished=now() - dt.timedelta(days=1))
    html = client_for(supervisor).get("/sla/report/").content.decode()
    assert "other tenant breach" not in html
