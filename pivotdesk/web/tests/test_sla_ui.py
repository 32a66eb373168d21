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
