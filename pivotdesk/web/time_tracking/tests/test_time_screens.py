"""Time tracking screens (issue 18): the ticket page's section (add, list, delete), the automatic report endpoint,
another workspace's ticket, and the time report with its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Category
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_contact
from pivotdesk.workforce.services.time_tracking import time_entry_add
from pivotdesk.workforce.time_models import TimeEntry, TimeSource

pytestmark = pytest.mark.django_db


def test_the_ticket_page_has_a_time_section_and_an_agent_logs_time(client_as, agent, ticket):
    client = client_as(agent)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-fold="time"' in page and f"/tickets/{ticket.number}/time/" in page and "time_tracking.js" in page
    response = client.post(
        f"/tickets/{ticket.number}/time/add/",
        {"duration": "1h 30m", "note": "远程排查"},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-time-total="5400"' in html and "1 h 30 min" in html and "远程排查" in html
    bad = client.post(f"/tickets/{ticket.number}/time/add/", {"duration": "soon"}, headers={"hx-request": "true"})
    assert bad.status_code == 422 and "not a duration" in bad.content.decode()
    assert TimeEntry.objects.filter(ticket=ticket).count() == 1


def test_delete_own_entry_but_not_a_colleagues(client_as, agent, supervisor, ticket):
    mine = time_entry_add(ticket=ticket, actor=Actor.for_agent(agent), duration="10m")
    theirs = time_entry_add(ticket=ticket, actor=Actor.for_agent(supervisor), duration="20m")
    client = client_as(agent)
    assert client.post(f"/tickets/{ticket.number}/time/delete/", {"entry": theirs.pk}).status_code == 403
    assert client.post(f"/tickets/{ticket.number}/time/delete/", {"entry": mine.pk}).status_code == 302
    assert list(TimeEntry.objects.values_list("pk", flat=True)) == [theirs.pk]
    # an entry of another ticket is not found through this one
    other = make_ticket(workspace=ticket.workspace)
    foreign = time_entry_add(ticket=other, actor=Actor.for_agent(supervisor), duration="5m")
    assert (
        client_as(supervisor).post(f"/tickets/{ticket.number}/time/delete/", {"entry": foreign.pk}).status_code == 404
    )


def test_the_page_reports_active_seconds_merged_once(client_as, agent, ticket):
    client = client_as(agent)
    url = f"/tickets/{ticket.number}/time/track/"
    assert client.post(url, {"page": "abc", "seconds": "40"}).status_code == 204
    assert client.post(url, {"page": "abc", "seconds": "40"}).status_code == 204  # a retry
    entry = TimeEntry.objects.get(ticket=ticket, source=TimeSource.AUTOMATIC)
    assert entry.seconds == 40 and entry.agent_id == agent.pk
    assert client.post(url, {"page": "", "seconds": "5"}).status_code == 422


def test_another_workspaces_ticket_time_is_not_found(client_as, agent, other_workspace):
    foreign = make_ticket(workspace=other_workspace)
    client = client_as(agent)
    for path in ("time/", "time/add/", "time/track/"):
        assert client.post(f"/tickets/{foreign.number + 1000}/{path}", {"duration": "5m"}).status_code == 404
    assert not TimeEntry.objects.exists()


def test_the_time_report_sums_per_agent_and_category_and_exports_csv(client_as, supervisor, agent, workspace):
    billing = Category.objects.create(workspace=workspace, name="Billing", name_zh="账单")
    customer = new_contact(workspace=workspace)
    billed = make_ticket(workspace=workspace, requester=customer, category=billing)
    plain = make_ticket(workspace=workspace, requester=customer)
    colleague = new_agent(workspace=workspace)
    system = Actor.system()
    time_entry_add(ticket=billed, actor=system, agent=agent, duration="1h")
    time_entry_add(ticket=billed, actor=system, agent=agent, duration="30m")
    time_entry_add(ticket=plain, actor=system, agent=colleague, duration="45m")
    time_entry_add(  # before the period
        ticket=plain, actor=system, agent=colleague, duration="2h", started_at=now() - dt.timedelta(days=90)
    )
    client = client_as(supervisor, "zh-hans")
    response = client.get("/reports/time/")
    assert response.status_code == 200
    hours = {row.key: row.hours for row in response.context["report"].by_agent}
    assert hours == {agent.pk: 1.5, colleague.pk: 0.75}
    assert {row.label: row.seconds for row in response.context["report"].by_category} == {"账单": 5400, "": 2700}
    exported = client.get("/reports/time/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "客服" and len(rows) == 3
    assert sorted(r[-1] for r in rows[1:]) == ["0.75", "1.50"]
    # agents without reports.view are refused
    assert client_as(agent).get("/reports/time/").status_code == 403
