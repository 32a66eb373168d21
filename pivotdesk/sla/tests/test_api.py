"""The sla REST API through HTTP: a ticket's clocks (by id and by number), policies, workspace isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.sla.services import sla_apply, sla_scan_due
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_level, add_targets
from pivotdesk.tickets.tests.factories import make_ticket


@pytest.fixture
def setup(clock, workspace, agent):
    CalendarFactory(workspace=workspace, is_default=True)
    policy = PolicyFactory(workspace=workspace, name="Standard", position=1)  # after VIP (0) whatever the sequence
    add_targets(policy, "normal", first_reply=120, resolution=960)
    add_level(policy, 1, [{"type": "notify", "to": "assignee"}])
    ticket = make_ticket(workspace=workspace, assignee=agent)
    sla_apply(actor=Actor.system(), ticket=ticket, now=clock())
    return ticket


def test_ticket_sla_shows_clocks_and_firings(clock, setup, agent, api_client_for):
    when = dt.datetime(2026, 3, 2, 11, 30, tzinfo=SH)
    clock.set(when)
    sla_scan_due(actor=Actor.system(), now=when)
    response = api_client_for(agent, scope="read").get(f"/api/v1/tickets/{setup.pk}/sla")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == setup.number
    assert body["policy"]["name"] == "Standard"
    assert body["state"] == "breached"
    first = next(c for c in body["clocks"] if c["metric"] == "first_reply")
    assert first["state"] == "breached"
    assert first["target_minutes"] == 120
    assert first["remaining_seconds"] == -30 * 60
    assert [f["kind"] for f in body["firings"]] == ["breach", "escalation"]
    assert body["firings"][0]["text"].startswith("SLA breached: first reply (due 11:00)")
    assert body["check_failure"] is None
    by_number = api_client_for(agent, scope="read").get(f"/api/v1/tickets/by-number/{setup.number}/sla")
    assert by_number.json() == body


def test_a_failing_check_is_in_the_tickets_sla(clock, setup, agent, monkeypatch, api_client_for):
    from pivotdesk.sla.services import scan as scan_module

    def boom(**kwargs):
        raise ValueError("no calendar")

    monkeypatch.setattr(scan_module, "apply_in_transaction", boom)
    when = dt.datetime(2026, 3, 2, 11, 30, tzinfo=SH)
    clock.set(when)
    sla_scan_due(actor=Actor.system(), now=when)
    failure = api_client_for(agent, scope="read").get(f"/api/v1/tickets/{setup.pk}/sla").json()["check_failure"]
    assert failure["error"] == "ValueError: no calendar"
    assert failure["attempts"] == 1
    assert dt.datetime.fromisoformat(failure["retry_at"]) == when + dt.timedelta(minutes=5)


def test_another_workspaces_ticket_is_not_found(setup, other_workspace, api_client_for):
    stranger = AgentFactory(workspace=other_workspace)
    assert api_client_for(stranger, scope="read").get(f"/api/v1/tickets/{setup.pk}/sla").status_code == 404
    assert (
        api_client_for(stranger, scope="read").get(f"/api/v1/tickets/by-number/{setup.number}/sla").status_code == 404
    )


def test_policies_are_listed_in_order_with_targets(setup, agent, workspace, other_workspace, api_client_for):
    PolicyFactory(workspace=other_workspace, name="Elsewhere")
    PolicyFactory(workspace=workspace, name="VIP", position=0, conditions={"tiers": ["vip"]})
    body = api_client_for(agent, scope="read").get("/api/v1/sla/policies").json()
    assert [p["name"] for p in body] == ["VIP", "Standard"]
    assert {(t["metric"], t["minutes"]) for t in body[1]["targets"]} == {("first_reply", 120), ("resolution", 960)}
    assert body[1]["escalations"][0]["actions"] == [{"type": "notify", "to": "assignee"}]


def test_unauthenticated_is_401(setup):
    assert Client().get(f"/api/v1/tickets/{setup.pk}/sla").status_code == 401
