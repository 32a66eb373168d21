"""Workspace isolation in the UI: nothing of workspace B is reachable by an agent of workspace A (404, not 500)."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import api_token_create
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import attachment_add, saved_view_create
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_workspace):
    """Workspace B: its ticket (numbered beyond anything A has), contact, saved view, token and attachment."""
    contact = new_contact(workspace=other_workspace)
    make_ticket(workspace=other_workspace, requester=contact)
    ticket = make_ticket(workspace=other_workspace, requester=contact, subject="Secret of B")
    agent_b = new_agent(workspace=other_workspace)
    view = saved_view_create(actor=Actor.system(), workspace=other_workspace, name="B view", filters={}, owner=None)
    token, _ = api_token_create(actor=Actor.system(), agent=agent_b, name="B token")
    att = attachment_add(actor=Actor.system(), ticket=ticket, filename="b.txt", content=b"secret")
    return {"ticket": ticket, "contact": contact, "view": view, "token": token, "attachment": att}


def test_ticket_of_another_workspace_is_404(agent, workspace, foreign, client_as):
    make_ticket(workspace=workspace)  # A has ticket 10001 only; B's secret is 10002
    number = foreign["ticket"].number
    client = client_as(agent)
    for url in (
        f"/tickets/{number}/",
        f"/tickets/{number}/conversation/",
        f"/tickets/{number}/sidebar/",
        f"/tickets/{number}/timeline/",
        f"/tickets/{number}/attachments/{foreign['attachment'].pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Secret of B" not in response.content
    for url, data in (
        (f"/tickets/{number}/reply/", {"body": "hi"}),
        (f"/tickets/{number}/properties/", {"priority": "urgent"}),
        (f"/tickets/{number}/assign-me/", {}),
        (f"/tickets/{number}/pulse/", {}),
        (f"/tickets/{number}/links/", {"other": "10001"}),
        (f"/tickets/{number}/merge/", {"into": "10001"}),
    ):
        assert client.post(url, data).status_code == 404, url
    foreign["ticket"].refresh_from_db()
    assert foreign["ticket"].priority == "normal" and foreign["ticket"].message_count == 1


def test_cannot_link_or_merge_into_another_workspace(agent, workspace, foreign, client_as):
    mine = make_ticket(workspace=workspace)
    make_ticket(workspace=workspace)
    client = client_as(agent)
    other_number = foreign["ticket"].number + 100
    assert client.post(f"/tickets/{mine.number}/links/", {"other": str(other_number)}).status_code == 404
    assert client.post(f"/tickets/{mine.number}/merge/", {"into": str(other_number)}).status_code == 404


def test_404_page_is_readable(agent, foreign, client_as):
    response = client_as(agent).get(f"/tickets/{foreign['ticket'].number}/")
    html = response.content.decode()
    assert "Not found" in html and "another workspace" in html and "Back to the queue" in html


def test_attachment_of_another_ticket_is_404(agent, workspace, foreign, client_as):
    mine = make_ticket(workspace=workspace)
    response = client_as(agent).get(f"/tickets/{mine.number}/attachments/{foreign['attachment'].pk}/")
    assert response.status_code == 404


def test_contact_saved_view_and_token_of_another_workspace_are_404(agent, foreign, client_as):
    client = client_as(agent)
    assert client.get(f"/contacts/{foreign['contact'].pk}/").status_code == 404
    assert client.get(f"/views/{foreign['view'].pk}/").status_code == 404
    assert client.post(f"/views/{foreign['view'].pk}/delete/").status_code == 404
    assert client.post(f"/tokens/{foreign['token'].pk}/revoke/").status_code == 404
    foreign["token"].refresh_from_db()
    assert foreign["token"].revoked_at is None
    assert client.get("/tickets/new/", {"contact": foreign["contact"].pk}).status_code == 404


def test_another_agents_token_in_the_same_workspace_is_404(agent, workspace, client_as):
    colleague = new_agent(workspace=workspace)
    token, _ = api_token_create(actor=Actor.system(), agent=colleague, name="theirs")
    assert client_as(agent).post(f"/tokens/{token.pk}/revoke/").status_code == 404


def test_bulk_update_ignores_tickets_of_another_workspace(agent, foreign, client_as):
    response = client_as(agent).post(
        "/queue/bulk/", {"ids": [foreign["ticket"].pk], "action": "status", "status": "pending"}, follow=True
    )
    assert "Not updated: not found" in response.content.decode()
    assert Ticket.objects.get(pk=foreign["ticket"].pk).status == "new"


def test_queue_never_lists_another_workspace(agent, foreign, client_as):
    html = client_as(agent).get("/queue/?scope=all&q=Secret").content.decode()
    assert "Secret of B" not in html


def test_workspace_switch_only_to_own_memberships(agent, other_workspace, foreign, client_as):
    client = client_as(agent)
    assert client.post("/workspace/switch/", {"workspace": other_workspace.pk}).status_code == 404
    new_agent(workspace=other_workspace, user=agent.user)
    assert client.post("/workspace/switch/", {"workspace": other_workspace.pk}).status_code == 302
    html = client.get("/queue/?scope=all").content.decode()
    assert "Secret of B" in html
    assert client.get(f"/tickets/{foreign['ticket'].number}/").status_code == 200
