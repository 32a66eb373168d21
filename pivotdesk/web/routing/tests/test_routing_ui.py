"""The dispatch UI: board, waiting queue, reassign with a reason, policies with a preview, decline, field view."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentSkill, Skill
from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, RoutingPolicy, TicketDevice, Trigger
from pivotdesk.routing.services.pool import clear_pool_cache
from pivotdesk.routing.tests.factories import DeviceFactory, PartFactory, policy
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent


@pytest.fixture(autouse=True)
def _routing(settings):
    settings.ROUTING_POOL_CACHE_SECONDS = 0
    settings.ROUTING_LOAD_CACHE_SECONDS = 0
    settings.PIVOTDESK_AI_ENABLED = False
    clear_pool_cache()


def _queued_ticket(workspace) -> Ticket:
    policy(workspace)
    ticket = make_ticket(workspace=workspace, subject="Nobody online")
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    return ticket


def test_the_dispatch_page_shows_agents_load_skills_and_the_waiting_queue(workspace, supervisor, client_as):
    busy = new_agent(workspace=workspace, capacity={"email": 2, "chat": 1})
    skill = Skill.objects.create(workspace=workspace, name="printers")
    AgentSkill.objects.create(agent=busy, skill=skill, level=4)
    assigned = make_ticket(workspace=workspace, assignee=busy, actor=Actor.for_agent(busy))
    busy.status = "offline"
    busy.save()
    supervisor.status = "offline"
    supervisor.save()
    waiting = _queued_ticket(workspace)
    response = client_as(supervisor).get("/dispatch/")
    assert response.status_code == 200
    html = response.content.decode()
    assert busy.name in html and "printers 4" in html and "1/2" in html
    assert f"#{assigned.number}" in html
    assert f"#{waiting.number}" in html and "Nobody online" in html
    assert 'hx-trigger="every 10s' in html  # live board
    board = client_as(supervisor).get("/dispatch/board/")
    assert board.status_code == 200 and busy.name in board.content.decode()
    queue = client_as(supervisor).get("/dispatch/queue/")
    assert queue.status_code == 200 and f"#{waiting.number}" in queue.content.decode()


def test_the_dispatch_page_is_in_chinese_too(workspace, supervisor, client_as):
    response = client_as(supervisor, "zh-hans").get("/dispatch/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "调度" in html and "等待队列" in html and "负载 / 容量" in html


def test_agents_cannot_open_dispatch(workspace, agent, client_as):
    for url in ("/dispatch/", "/dispatch/board/", "/dispatch/policies/", "/dispatch/policies/new/"):
        assert client_as(agent).get(url).status_code == 403


def test_reassign_with_a_reason(workspace, supervisor, client_as):
    supervisor.status = "offline"
    supervisor.save()
    ticket = _queued_ticket(workspace)
    target = new_agent(workspace=workspace, status="offline")
    client = client_as(supervisor)
    # bad input: no reason, no agent, another workspace's agent → readable 4xx
    assert client.post(f"/dispatch/tickets/{ticket.number}/reassign/", {"agent": target.pk}).status_code == 422
    assert client.post(f"/dispatch/tickets/{ticket.number}/reassign/", {"reason": "x"}).status_code == 422
    stranger = new_agent()
    response = client.post(f"/dispatch/tickets/{ticket.number}/reassign/", {"agent": stranger.pk, "reason": "x"})
    assert response.status_code == 404
    response = client.post(
        f"/dispatch/tickets/{ticket.number}/reassign/",
        {"agent": target.pk, "reason": "Speaks Cantonese"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee_id == target.pk and not QueuedTicket.objects.exists()
    assert RoutingDecision.objects.get(trigger=Trigger.OVERRIDE).reason_data["reason"] == "Speaks Cantonese"


def test_policies_can_be_created_edited_and_previewed(workspace, supervisor, client_as):
    client = client_as(supervisor)
    new_agent(workspace=workspace)
    make_ticket(workspace=workspace, subject="Recent one")
    form = {
        "name": "Chat first",
        "position": "0",
        "strategy": "least_loaded",
        "channels": ["chat", "email"],
        "priorities": ["urgent"],
        "languages": "zh, en",
        "tags": "vip",
        "skill_timeout_seconds": "120",
        "batch_threshold": "10",
        "active": "on",
        "relax_enabled": "on",
        **{f"w_{k}": "1" for k in ("skill", "language", "load", "value", "impact", "geography", "continuity")},
        "w_fairness": "0.5",
    }
    response = client.post("/dispatch/policies/new/", form)
    assert response.status_code == 302
    created = RoutingPolicy.objects.get(workspace=workspace, name="Chat first")
    assert created.conditions == {
        "channels": ["chat", "email"],
        "priorities": ["urgent"],
        "languages": ["en", "zh"],
        "tags": ["vip"],
    }
    assert created.weights["fairness"] == 0.5 and created.skill_timeout_seconds == 120
    assert client.get("/dispatch/policies/").content.decode().count("Chat first") >= 1
    page = client.get(f"/dispatch/policies/{created.pk}/")
    assert page.status_code == 200 and 'name="w_skill"' in page.content.decode()
    # the preview decides on recent tickets without writing anything
    preview = client.get(f"/dispatch/policies/{created.pk}/preview/")
    assert preview.status_code == 200 and "Recent one" in preview.content.decode()
    unsaved = client.post(f"/dispatch/policies/{created.pk}/preview/", {**form, "channels": [], "priorities": []})
    assert unsaved.status_code == 200 and "would get it" in unsaved.content.decode().lower()
    assert not RoutingDecision.objects.exists()
    assert RoutingPolicy.objects.get(pk=created.pk).conditions["priorities"] == ["urgent"]
    # bad input: readable 422, the form keeps what was typed
    bad = client.post(f"/dispatch/policies/{created.pk}/", {**form, "skill_timeout_seconds": "soon"})
    assert bad.status_code == 422 and "skill_timeout_seconds" in bad.content.decode()
    assert 'value="Chat first"' in bad.content.decode()
    assert client.post(f"/dispatch/policies/{created.pk}/preview/", {**form, "strategy": "dice"}).status_code == 422
    # delete
    assert client.post(f"/dispatch/policies/{created.pk}/delete/").status_code == 302
    assert not RoutingPolicy.objects.filter(pk=created.pk).exists()


def test_another_workspaces_policy_is_not_found(workspace, other_workspace, supervisor, client_as):
    foreign = policy(other_workspace)
    client = client_as(supervisor)
    assert client.get(f"/dispatch/policies/{foreign.pk}/").status_code == 404
    assert client.get(f"/dispatch/policies/{foreign.pk}/preview/").status_code == 404
    assert client.post(f"/dispatch/policies/{foreign.pk}/delete/").status_code == 404


def test_the_timeline_explains_the_decision_in_plain_words(workspace, agent, client_as):
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    html = client_as(agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert f"Routing routed the ticket to {agent.name}" in html
    assert RoutingDecision.objects.get(ticket=ticket).reason[:40] in html
    zh = client_as(agent, "zh-hans").get(f"/tickets/{ticket.number}/").content.decode()
    assert f"自动分配 将工单分配给 {agent.name}" in zh  # the system's actor is named in the reader's language


def test_the_assignee_can_decline_with_a_reason(workspace, agent, client_as):
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    client = client_as(agent)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/tickets/{ticket.number}/decline/" in page
    assert client.post(f"/tickets/{ticket.number}/decline/", {"reason": ""}).status_code == 422
    response = client.post(f"/tickets/{ticket.number}/decline/", {"reason": "Out sick this afternoon"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and QueuedTicket.objects.filter(ticket=ticket).exists()
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "declined the ticket: Out sick this afternoon" in html
    # not the assignee any more → 409
    assert client.post(f"/tickets/{ticket.number}/decline/", {"reason": "again"}).status_code == 409


def test_the_field_view_shows_device_history_and_parts(workspace, agent, client_as):
    device = DeviceFactory(workspace=workspace, name="Chiller A", site_name="Plant 3")
    earlier = make_ticket(workspace=workspace, subject="Compressor noise")
    TicketDevice.objects.create(workspace=workspace, ticket=earlier, device=device)
    part = PartFactory(workspace=workspace, sku="FAN-1", stock=1)
    services.part_usage_record(actor=Actor.system(), ticket=earlier, device=device, part=part, quantity=1)
    ticket = make_ticket(workspace=workspace, subject="Chiller down")
    services.device_link(ticket=ticket, device=device, actor=Actor.system())
    html = client_as(agent).get(f"/tickets/{ticket.number}/field/").content.decode()
    assert "Chiller A" in html and "Plant 3" in html and "Compressor noise" in html
    assert "FAN-1" in html and "out of stock" in html
    plain = make_ticket(workspace=workspace)
    assert "not linked to a device" in client_as(agent).get(f"/tickets/{plain.number}/field/").content.decode()
    assert client_as(agent).get("/tickets/999999/field/").status_code == 404


def test_the_nav_shows_dispatch_to_supervisors_only(workspace, supervisor, agent, client_as):
    assert 'href="/dispatch/"' in client_as(supervisor).get("/queue/").content.decode()
    assert 'href="/dispatch/"' not in client_as(agent).get("/queue/").content.decode()


def test_a_supervisor_reassigns_an_assigned_ticket_from_its_page(workspace, supervisor, agent, client_as):
    ticket = make_ticket(workspace=workspace, subject="Needs a Cantonese speaker")
    first = new_agent(workspace=workspace)
    from pivotdesk.tickets import services as ticket_services

    ticket_services.ticket_assign(ticket=ticket, assignee=first, actor=Actor.for_agent(supervisor))
    page = client_as(supervisor).get(f"/tickets/{ticket.number}/").content.decode()
    assert "Reassign with a reason" in page and f"/dispatch/tickets/{ticket.number}/reassign/" in page
    assert "Reassign with a reason" not in client_as(agent).get(f"/tickets/{ticket.number}/").content.decode()
    response = client_as(supervisor).post(
        f"/dispatch/tickets/{ticket.number}/reassign/",
        {"agent": agent.pk, "reason": "Speaks Cantonese", "next_url": f"/tickets/{ticket.number}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.number}/"
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
    assert RoutingDecision.objects.get(ticket=ticket, trigger=Trigger.OVERRIDE).reason_data["reason"] == (
        "Speaks Cantonese"
    )
