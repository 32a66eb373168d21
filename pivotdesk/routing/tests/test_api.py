"""The routing REST API: policies (supervisors), queue, a ticket's decisions, decline and override."""

from __future__ import annotations

from pivotdesk.accounts.actors import Actor
from pivotdesk.routing import services
from pivotdesk.routing.models import RoutingPolicy, Trigger
from pivotdesk.routing.tests.factories import agent as make_agent
from pivotdesk.routing.tests.factories import policy
from pivotdesk.tickets.tests.factories import make_ticket


def test_a_supervisor_creates_lists_and_changes_policies(client, supervisor, agent, api_auth):
    auth = api_auth(supervisor)
    response = client.post(
        "/api/v1/routing/policies/",
        {"name": "VIP", "conditions": {"tiers": ["vip"]}, "strategy": "skills_best_fit"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201, response.content
    pid = response.json()["id"]
    assert response.json()["conditions"] == {"tiers": ["vip"]}
    bad = client.patch(
        f"/api/v1/routing/policies/{pid}/", {"strategy": "dice"}, content_type="application/json", **auth
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_strategy"
    ok = client.patch(
        f"/api/v1/routing/policies/{pid}/", {"skill_timeout_seconds": 90}, content_type="application/json", **auth
    )
    assert ok.status_code == 200 and ok.json()["skill_timeout_seconds"] == 90
    assert [p["name"] for p in client.get("/api/v1/routing/policies/", **auth).json()] == ["VIP"]
    assert client.get("/api/v1/routing/policies/", **api_auth(agent)).status_code == 403


def test_another_workspaces_policy_is_not_found(client, supervisor, other_workspace, api_auth):
    foreign = policy(other_workspace)
    response = client.patch(
        f"/api/v1/routing/policies/{foreign.pk}/",
        {"active": False},
        content_type="application/json",
        **api_auth(supervisor),
    )
    assert response.status_code == 404
    assert RoutingPolicy.objects.get(pk=foreign.pk).active


def test_queue_decisions_decline_and_override(client, workspace, supervisor, agent, api_auth):
    supervisor.status = "offline"
    supervisor.save()
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
    decisions = client.get(f"/api/v1/routing/tickets/{ticket.pk}/decisions/", **api_auth(agent)).json()
    assert decisions[0]["agent_id"] == agent.pk and decisions[0]["reason"]
    declined = client.post(
        f"/api/v1/routing/tickets/{ticket.pk}/decline/",
        {"reason": "on a call"},
        content_type="application/json",
        **api_auth(agent),
    )
    assert declined.status_code == 200 and declined.json()["queued"] is True
    queue = client.get("/api/v1/routing/queue/", **api_auth(supervisor)).json()
    assert queue[0]["ticket_id"] == ticket.pk and queue[0]["last_reason"]
    other = make_agent(workspace, status="offline")
    override = client.post(
        f"/api/v1/routing/tickets/{ticket.pk}/override/",
        {"agent_id": other.pk, "reason": "knows the customer"},
        content_type="application/json",
        **api_auth(supervisor),
    )
    assert override.status_code == 200 and override.json()["trigger"] == "override"
    empty = client.post(
        f"/api/v1/routing/tickets/{ticket.pk}/override/",
        {"agent_id": other.pk, "reason": " "},
        content_type="application/json",
        **api_auth(supervisor),
    )
    assert empty.status_code == 422
