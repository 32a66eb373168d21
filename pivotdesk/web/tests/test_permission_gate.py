"""One gate: the UI and the API refuse the same things, because the service decides (issue 10; issue 11 finding 8)."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.models import ApiToken, Role
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import SavedView, Ticket
from pivotdesk.web.tests.helpers import new_agent

pytestmark = pytest.mark.django_db


def test_a_light_agent_cannot_share_a_saved_view_in_the_ui(light_agent, client_as):
    # given a light agent in the queue
    client = client_as(light_agent)
    # when they save the current filters as a view shared with everyone
    response = client.post("/views/new/?scope=all", {"name": "Everyone's fires", "shared": "on"})
    # then the UI refuses, as the API does, and no view exists
    assert response.status_code == 403
    assert not SavedView.objects.filter(name="Everyone's fires").exists()


def test_a_light_agent_still_saves_a_personal_view(light_agent, client_as):
    response = client_as(light_agent).post("/views/new/?scope=all", {"name": "Mine"})
    assert response.status_code == 302
    assert SavedView.objects.get(name="Mine").owner_id == light_agent.pk


def test_a_supervisor_shares_a_view_and_only_a_supervisor_deletes_it(supervisor, agent, client_as):
    response = client_as(supervisor).post("/views/new/?scope=all", {"name": "Team", "shared": "on"})
    view = SavedView.objects.get(name="Team")
    assert response.status_code == 302 and view.owner_id is None
    assert client_as(agent).post(f"/views/{view.pk}/delete/").status_code == 403
    assert client_as(supervisor).post(f"/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_the_share_checkbox_shows_only_to_those_who_may_share(light_agent, supervisor, client_as):
    assert 'name="shared"' not in client_as(light_agent).get("/queue/").content.decode()
    assert 'name="shared"' in client_as(supervisor).get("/queue/").content.decode()


def test_a_light_agent_cannot_create_an_admin_scope_token_in_the_ui(light_agent, client_as):
    # given a light agent on their tokens page
    client = client_as(light_agent)
    # when they ask for a token with the admin scope
    response = client.post("/tokens/", {"name": "root", "scope": "admin"})
    # then the UI refuses, as the API does, and no token exists
    assert response.status_code == 403
    assert not ApiToken.objects.filter(name="root").exists()
    # and the admin scope is not offered to them at all
    assert 'value="admin"' not in client.get("/tokens/").content.decode()


def test_an_admin_may_create_an_admin_scope_token_in_the_ui(admin_agent, client_as):
    response = client_as(admin_agent).post("/tokens/", {"name": "root", "scope": "admin"})
    assert response.status_code == 201
    assert ApiToken.objects.get(name="root").scope == "admin"


def test_a_non_admin_session_cannot_raise_a_token_rate_limit(agent, client_as):
    # given an agent signed in (a session, as the UI's scripts use the API)
    session = client_as(agent)
    # when they create a token allowed 100,000 requests a minute
    response = session.post(
        "/api/v1/tokens", {"name": "firehose", "rate_limit_per_minute": 100_000}, content_type="application/json"
    )
    # then it is refused and no token exists
    assert response.status_code == 403, response.content
    assert not ApiToken.objects.filter(name="firehose").exists()


def test_a_non_admin_may_lower_their_token_rate_limit(agent, client_as):
    response = client_as(agent).post(
        "/api/v1/tokens", {"name": "gentle", "rate_limit_per_minute": 10}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert ApiToken.objects.get(name="gentle").rate_limit_per_minute == 10


def test_an_admin_may_raise_a_token_rate_limit_up_to_the_ceiling(admin_agent, client_as):
    session = client_as(admin_agent)
    raised = session.post(
        "/api/v1/tokens", {"name": "bulk", "rate_limit_per_minute": 100_000}, content_type="application/json"
    )
    assert raised.status_code == 201, raised.content


def test_a_refused_new_ticket_in_the_ui_leaves_no_new_contact(agent, workspace, client_as):
    # given an agent opening a ticket for a new customer, assigned to a light agent (who cannot hold tickets)
    light = new_agent(workspace=workspace, role=Role.LIGHT_AGENT)
    form = {"email": "first.time@example.com", "subject": "Help", "body": "Hi", "assignee": str(light.pk)}
    # when the form is sent
    response = client_as(agent).post("/tickets/new/", form)
    # then the ticket is refused and neither it nor the customer was created
    assert response.status_code == 422
    assert not Contact.objects.filter(email="first.time@example.com").exists()
    assert not Ticket.objects.filter(subject="Help").exists()


def test_a_light_agent_cannot_open_a_ticket_and_leaves_no_contact(light_agent, client_as):
    form = {"email": "second.time@example.com", "subject": "Help", "body": "Hi"}
    response = client_as(light_agent).post("/tickets/new/", form)
    assert response.status_code == 403
    assert not Contact.objects.filter(email="second.time@example.com").exists()


def test_the_new_ticket_form_offers_only_agents_who_may_be_assigned(agent, workspace, client_as):
    light = new_agent(workspace=workspace, role=Role.LIGHT_AGENT)
    html = client_as(agent).get("/tickets/new/").content.decode()
    assert f'value="{light.pk}"' not in html
