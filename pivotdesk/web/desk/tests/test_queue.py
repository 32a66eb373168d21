"""The queue: scopes, filters, sort, saved views, bulk actions, live rows, constant query count."""

from __future__ import annotations

import pytest

from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import SavedView, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_login_page_and_login(client, agent):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content
    response = client.post("/login/", {"username": agent.user.username, "password": "pivotdesk-test"})
    assert response.status_code == 302
    assert client.get("/")["Location"] == "/queue/"


def test_wrong_password_stays_on_login_with_message(client, agent):
    response = client.post("/login/", {"username": agent.user.username, "password": "nope-nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_anonymous_is_sent_to_login(client):
    response = client.get("/queue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/queue/")


def test_logout(agent, client_as):
    client = client_as(agent)
    assert client.post("/logout/").status_code == 302
    assert client.get("/queue/").status_code == 302


def test_queue_shows_tickets_with_their_columns(agent, workspace, contact, client_as):
    ticket = make_ticket(workspace=workspace, requester=contact, subject="打印机着火了", priority="urgent")
    response = client_as(agent).get("/queue/?scope=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert "打印机着火了" in html
    assert f"/tickets/{ticket.number}/" in html
    assert contact.display_name in html
    assert "pr-urgent" in html and "st-new" in html


def test_queue_scopes_mine_and_unassigned(agent, workspace, contact, actor, client_as):
    mine = make_ticket(workspace=workspace, requester=contact, subject="Mine one")
    ticket_services.ticket_assign(ticket=mine, assignee=agent, actor=actor)
    make_ticket(workspace=workspace, requester=contact, subject="Nobody's")
    client = client_as(agent)
    html = client.get("/queue/?scope=mine").content.decode()
    assert "Mine one" in html and "Nobody&#x27;s" not in html
    html = client.get("/queue/?scope=unassigned").content.decode()
    assert "Mine one" not in html and "Nobody&#x27;s" in html


def test_queue_filters_by_priority_search_and_tag(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact, subject="Refund please", priority="high", tags=["billing"])
    make_ticket(workspace=workspace, requester=contact, subject="Password reset", priority="low")
    client = client_as(agent)
    html = client.get("/queue/?scope=all&priority=high").content.decode()
    assert "Refund please" in html and "Password reset" not in html
    html = client.get("/queue/?scope=all&q=password").content.decode()
    assert "Password reset" in html and "Refund please" not in html
    html = client.get("/queue/?scope=all&tag=billing").content.decode()
    assert "Refund please" in html and "Password reset" not in html


def test_queue_sorts_by_column(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact, subject="AAA first")
    make_ticket(workspace=workspace, requester=contact, subject="ZZZ last")
    html = client_as(agent).get("/queue/?scope=all&sort=subject").content.decode()
    assert html.index("AAA first") < html.index("ZZZ last")
    html = client_as(agent).get("/queue/?scope=all&sort=-subject").content.decode()
    assert html.index("ZZZ last") < html.index("AAA first")


def test_invalid_sort_is_a_readable_4xx(agent, client_as):
    response = client_as(agent).get("/queue/?sort=bogus")
    assert response.status_code == 422
    assert "Unknown sort" in response.content.decode()


def test_queue_rows_partial_for_polling(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact, subject="Arrived just now")
    response = client_as(agent).get("/queue/rows/?scope=all", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<tbody") and "Arrived just now" in html and "<html" not in html


def test_queue_query_count_does_not_grow_with_rows(agent, workspace, contact, django_assert_max_num_queries, client_as):
    client = client_as(agent)
    make_ticket(workspace=workspace, requester=contact, tags=["a"])
    client.get("/queue/?scope=all")  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/queue/?scope=all")
    for _ in range(12):
        make_ticket(workspace=workspace, tags=["a", "b"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/queue/?scope=all")
    assert response.content.decode().count('class="qrow') == 13


def test_pagination_50_per_page(agent, workspace, contact, client_as):
    for n in range(52):
        make_ticket(workspace=workspace, requester=contact, subject=f"T{n}")
    client = client_as(agent)
    html = client.get("/queue/?scope=all").content.decode()
    assert html.count('class="qrow') == 50
    assert "page=2" in html
    html = client.get("/queue/?scope=all&page=2").content.decode()
    assert html.count('class="qrow') == 2


def test_bulk_assign_status_and_tag(agent, workspace, contact, client_as):
    a = make_ticket(workspace=workspace, requester=contact)
    b = make_ticket(workspace=workspace, requester=contact)
    client = client_as(agent)
    response = client.post("/queue/bulk/", {"ids": [a.pk, b.pk], "action": "assign", "assignee": "me"})
    assert response.status_code == 302
    assert set(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee_id", flat=True)) == {agent.pk}
    client.post("/queue/bulk/", {"ids": [a.pk, b.pk], "action": "status", "status": "pending"})
    assert set(Ticket.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"pending"}
    client.post("/queue/bulk/", {"ids": [a.pk], "action": "tag", "tag": "VIP follow up"})
    assert list(a.tags.values_list("name", flat=True)) == ["vip_follow_up"]
    follow = client.get("/queue/?scope=all")
    assert "Updated 2 ticket(s)." in follow.content.decode() or follow.status_code == 200


def test_bulk_without_selection_is_422_with_message(agent, client_as):
    response = client_as(agent).post("/queue/bulk/", {"action": "assign", "assignee": "me"})
    assert response.status_code == 422
    assert "Select at least one ticket." in response.content.decode()


def test_bulk_invalid_transition_reports_failure(agent, workspace, contact, client_as):
    t = make_ticket(workspace=workspace, requester=contact)
    client = client_as(agent)
    response = client.post("/queue/bulk/", {"ids": [t.pk], "action": "status", "status": "closed"}, follow=True)
    assert "Not updated:" in response.content.decode()
    t.refresh_from_db()
    assert t.status == "new"


def test_saved_view_create_open_delete(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact, subject="Urgent thing", priority="urgent")
    make_ticket(workspace=workspace, requester=contact, subject="Calm thing", priority="low")
    client = client_as(agent)
    response = client.post("/views/new/?scope=all&priority=urgent&sort=-number", {"name": "Fires"})
    view = SavedView.objects.get(name="Fires")
    assert view.owner_id == agent.pk and view.filters == {"scope": "all", "priority": "urgent"}
    assert response["Location"] == f"/views/{view.pk}/"
    html = client.get(response["Location"], follow=True).content.decode()
    assert "Urgent thing" in html and "Calm thing" not in html and "Fires" in html
    assert client.post(f"/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_saved_view_without_name_is_422(agent, client_as):
    response = client_as(agent).post("/views/new/?scope=all", {"name": " "})
    assert response.status_code == 422
    assert "needs a name" in response.content.decode()


def test_language_switch_gives_chinese(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact)
    client = client_as(agent)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/queue/"})
    assert response.status_code == 302
    html = client.get("/queue/?scope=all").content.decode()
    assert 'lang="zh-hans"' in html
    assert "队列" in html and "未分配" in html
    assert "Unassigned" not in html


def test_browser_language_is_followed(agent, client_as):
    html = client_as(agent, language="zh-CN,zh;q=0.9").get("/queue/").content.decode()
    assert "队列" in html
    html = client_as(agent, language="en-US").get("/queue/").content.decode()
    assert "Queue" in html


def test_chinese_choice_labels_in_queue(agent, workspace, contact, client_as):
    make_ticket(workspace=workspace, requester=contact, priority="urgent")
    html = client_as(agent, language="zh-hans").get("/queue/?scope=all").content.decode()
    assert "紧急" in html  # priority urgent
    assert "新建" in html  # status new


def test_assign_shortcut_endpoint_via_bulk_for_one_row(agent, workspace, contact, client_as):
    t = make_ticket(workspace=workspace, requester=contact)
    client_as(agent).post("/queue/bulk/", {"ids": [t.pk], "action": "assign", "assignee": "me", "next": "/queue/"})
    t.refresh_from_db()
    assert t.assignee_id == agent.pk
    assert t.events.filter(verb="assigned", actor_agent=agent).exists()


def test_a_search_shows_the_best_matches_first_until_a_column_is_chosen(agent, workspace, contact, client_as):
    import datetime as dt

    from pivotdesk.search.services import document_build
    from pivotdesk.tickets.models import Ticket

    dense = make_ticket(workspace=workspace, requester=contact, subject="退款 退款", body="退款退款，还是退款")
    light = make_ticket(workspace=workspace, requester=contact, subject="打印机坏了", body="顺便问下退款")
    for t in (dense, light):
        document_build(kind="ticket", object_id=t.pk)
    Ticket.objects.filter(pk=dense.pk).update(updated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    Ticket.objects.filter(pk=light.pk).update(updated_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    client = client_as(agent, language="zh-CN")
    html = client.get("/queue/?scope=all&q=退款").content.decode()
    assert html.index("退款 退款") < html.index("打印机坏了")  # ranked, though the other was updated later
    assert 'id="sorted-by-relevance"' in html and "最佳匹配优先" in html
    assert 'name="sort"' not in html.split('class="filters"')[1].split("</form>")[0]  # a new search ranks too
    html = client.get("/queue/?scope=all&q=退款&sort=-updated_at").content.decode()
    assert html.index("打印机坏了") < html.index("退款 退款")
    assert 'id="sort-by-relevance"' in html and "sort=relevance" in html


def test_the_api_ranks_on_request_and_refuses_unknown_sorts(agent, workspace, contact, client_as):
    api = client_as(agent)
    assert api.get("/api/v1/tickets?q=x&sort=relevance").status_code == 200
    bad = api.get("/api/v1/tickets?sort=best")
    assert bad.status_code == 422 and "relevance" in bad.content.decode()
