"""The accounts REST API and API authentication, through HTTP: tokens, sessions, agents, presence, teams."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import ApiToken, Role
from pivotdesk.accounts.services import api_token_create, skill_get_or_create
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> Client:
    return Client(headers={"authorization": f"Bearer {secret}"})


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters():
    cache.clear()


# ---- authentication -------------------------------------------------------------------------------------------------


def test_no_or_bad_credentials_are_401():
    assert Client().get("/api/v1/agents/me").status_code == 401
    res = bearer("pd_nope_nope").get("/api/v1/agents/me")
    assert res.status_code == 401
    assert res.json()["code"] == "not_authenticated"


def test_created_token_works_and_revoked_token_is_401(agent):
    session = Client()
    session.force_login(agent.user)
    # given a token created through the API (the secret is shown once)
    res = session.post(
        "/api/v1/tokens", {"name": "ci", "scope": "write"}, content_type="application/json", HTTP_X_CSRFTOKEN="x"
    )
    # (the test client skips CSRF checks unless asked to; see the CSRF test below)
    assert res.status_code == 201, res.content
    created = res.json()
    assert created["secret"].startswith("pd_")
    token_client = bearer(created["secret"])
    # when it is used, then it authenticates as the agent
    assert token_client.get("/api/v1/agents/me").json()["id"] == agent.pk
    listed = token_client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "secret" not in listed[0]
    # when it is revoked, then it no longer works
    assert token_client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert token_client.get("/api/v1/agents/me").status_code == 401
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None


def test_read_only_token_cannot_write(agent, api_client_for):
    api = api_client_for(agent, scope="read")
    assert api.get("/api/v1/teams").status_code == 200
    res = post(api, "/api/v1/teams", {"name": "Nope"})
    assert res.status_code == 403
    assert res.json()["code"] == "insufficient_scope"


def test_rate_limit_is_429(agent, api_client_for):
    api = api_client_for(agent, rate_limit_per_minute=3)
    codes = [api.get("/api/v1/agents/me").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    assert api.get("/api/v1/agents/me").json()["code"] == "rate_limited"


def test_session_auth_with_csrf(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    # reads need only the session
    assert client.get("/api/v1/agents/me").json()["id"] == agent.pk
    # writes without the CSRF token are refused
    refused = client.put("/api/v1/agents/me/status", {"status": "away"}, content_type="application/json")
    assert refused.status_code in (401, 403)
    # with the CSRF cookie and header they pass
    client.get("/api/v1/agents/me")
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    res = client.put(
        "/api/v1/agents/me/status",
        {"status": "away"},
        content_type="application/json",
        headers={"X-CSRFToken": _mask_cipher_secret(secret)},
    )
    assert res.status_code == 200, res.content
    assert res.json()["status"] == "away"


def test_write_token_cannot_mint_tokens_and_only_admins_get_admin_scope(agent, admin_agent, api_client_for):
    assert post(api_client_for(agent), "/api/v1/tokens", {"name": "x"}).status_code == 403
    assert (
        post(api_client_for(agent, scope="admin"), "/api/v1/tokens", {"name": "x", "scope": "admin"}).status_code == 403
    )
    res = post(api_client_for(admin_agent, scope="admin"), "/api/v1/tokens", {"name": "x", "scope": "admin"})
    assert res.status_code == 201


def test_cannot_revoke_another_agents_token(agent, supervisor, api_client_for):
    token, _ = api_token_create(actor=Actor.system(), agent=supervisor, name="theirs")
    assert api_client_for(agent).delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# ---- agents ---------------------------------------------------------------------------------------------------------


def test_list_and_get_agents(agent, supervisor, workspace, api_client_for):
    skill = skill_get_or_create(actor=Actor.system(), workspace=workspace, name="Billing")
    api = api_client_for(agent)
    ids = {a["id"] for a in api.get("/api/v1/agents").json()}
    assert {agent.pk, supervisor.pk} <= ids
    one = api.get(f"/api/v1/agents/{supervisor.pk}").json()
    assert one["role"] == "supervisor"
    assert one["skills"] == []
    assert skill.pk
    assert api.get("/api/v1/agents/99999999").status_code == 404


def test_set_my_status(agent, api_client_for):
    api = api_client_for(agent)
    res = api.put("/api/v1/agents/me/status", {"status": "away"}, content_type="application/json")
    assert res.json()["status"] == "away"
    bad = api.put("/api/v1/agents/me/status", {"status": "asleep"}, content_type="application/json")
    assert bad.status_code == 422


def test_only_admins_patch_agents(agent, admin_agent, api_client_for):
    url = f"/api/v1/agents/{agent.pk}"
    assert patch(api_client_for(agent, scope="admin"), url, {"role": "admin"}).status_code == 403
    admin = api_client_for(admin_agent, scope="admin")
    res = patch(admin, url, {"role": "supervisor", "languages": ["zh"], "skills": [{"name": "Refunds", "level": 4}]})
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["role"] == "supervisor"
    assert body["skills"] == [{"id": body["skills"][0]["id"], "name": "Refunds", "level": 4}]
    assert patch(admin, url, {"role": "emperor"}).status_code == 422
    assert patch(admin, url, {"seniority": 9}).status_code == 422
    assert patch(admin, f"/api/v1/agents/{admin_agent.pk}", {"is_active": False}).status_code == 422
    assert patch(api_client_for(admin_agent, scope="write"), url, {"role": "agent"}).status_code == 403
    assert [s["name"] for s in admin.get("/api/v1/skills").json()] == ["Refunds"]


# ---- teams ----------------------------------------------------------------------------------------------------------


def test_teams_create_and_patch_members(agent, supervisor, workspace, other_workspace, api_client_for):
    api = api_client_for(supervisor)
    assert post(api_client_for(agent), "/api/v1/teams", {"name": "Tier 1"}).status_code == 403
    res = post(api, "/api/v1/teams", {"name": "Tier 1", "member_ids": [agent.pk], "lead_id": supervisor.pk})
    assert res.status_code == 201, res.content
    team = res.json()
    assert [m["id"] for m in team["members"]] == [agent.pk]
    assert team["lead"]["id"] == supervisor.pk
    assert post(api, "/api/v1/teams", {"name": "Tier 1"}).status_code == 409
    stranger = AgentFactory.create(workspace=other_workspace, role=Role.AGENT)
    bad = patch(api, f"/api/v1/teams/{team['id']}", {"member_ids": [stranger.pk]})
    assert bad.status_code == 422
    assert bad.json()["code"] == "unknown_reference"
    res = patch(api, f"/api/v1/teams/{team['id']}", {"name": "Tier One", "member_ids": [agent.pk, supervisor.pk]})
    assert res.status_code == 200
    assert res.json()["name"] == "Tier One"
    assert {m["id"] for m in res.json()["members"]} == {agent.pk, supervisor.pk}
    cleared = patch(api, f"/api/v1/teams/{team['id']}", {"lead_id": None})
    assert cleared.json()["lead"] is None
    TeamFactory.create(workspace=workspace, name="Other")
    assert patch(api, f"/api/v1/teams/{team['id']}", {"name": "Other"}).status_code == 409
    assert {t["name"] for t in api.get("/api/v1/teams").json()} == {"Tier One", "Other"}
    assert api.get(f"/api/v1/teams/{team['id']}").json()["id"] == team["id"]
