"""Presence toggle, API tokens, admin link, workspace switcher in the header."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import ApiToken
from pivotdesk.accounts.services import api_token_authenticate, workspace_create
from pivotdesk.web.tests.helpers import new_agent, new_user

pytestmark = pytest.mark.django_db


def test_presence_toggle(agent, client_as):
    client = client_as(agent)
    response = client.post("/presence/", {"status": "away"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'class="dot away"' in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == "away"


def test_presence_unknown_value_is_422(agent, client_as):
    response = client_as(agent).post("/presence/", {"status": "sleeping"}, headers={"HX-Request": "true"})
    assert response.status_code == 422


def test_token_create_shows_secret_once_and_revoke(agent, client_as):
    client = client_as(agent)
    response = client.post("/tokens/", {"name": "CRM sync", "scope": "read"})
    assert response.status_code == 201
    secret = response.context["secret"]
    assert secret.startswith("pd_") and secret in response.content.decode()
    token = ApiToken.objects.get(name="CRM sync")
    assert api_token_authenticate(raw=secret) == token
    listing = client.get("/tokens/").content.decode()
    assert "CRM sync" in listing and secret not in listing
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    assert api_token_authenticate(raw=secret) is None


def test_token_without_name_is_422(agent, client_as):
    response = client_as(agent).post("/tokens/", {"name": ""})
    assert response.status_code == 422 and "needs a name" in response.content.decode()


def test_admin_console_link_only_for_the_installations_superusers(agent, admin_agent, client_as):
    # the Django admin is for operators (config/admin_site.py): a workspace admin configures in the agent UI
    assert 'href="/admin/"' not in client_as(agent).get("/queue/").content.decode()
    assert 'href="/admin/"' not in client_as(admin_agent).get("/queue/").content.decode()
    admin_agent.user.is_superuser = True
    admin_agent.user.save(update_fields=["is_superuser"])
    assert 'href="/admin/"' in client_as(admin_agent).get("/queue/").content.decode()


def test_workspace_switcher_shown_for_several_memberships(agent, client_as):
    assert 'name="workspace"' not in client_as(agent).get("/queue/").content.decode()
    second = workspace_create(actor=Actor.system(), name="Second desk")
    new_agent(workspace=second, user=agent.user)
    html = client_as(agent).get("/queue/").content.decode()
    assert 'name="workspace"' in html and "Second desk" in html


def test_user_without_workspace_gets_403_page(db):
    from django.test import Client

    client = Client()
    client.force_login(new_user())
    response = client.get("/queue/")
    assert response.status_code == 403
    assert "not a member" in response.content.decode()


def test_htmx_request_after_logout_redirects_to_login(client):
    response = client.get("/queue/rows/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response["HX-Redirect"] == "/login/"
