"""Dispatch shows the whole backlog (issue 12): "Nobody is waiting" was said while 36 open tickets sat unassigned in
status New — created before routing was configured, so never queued. The page lists every open unassigned ticket,
queued or not, with a count and the actions to route or assign them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, Trigger
from pivotdesk.routing.services.pool import clear_pool_cache
from pivotdesk.routing.tests.factories import policy
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _routing(settings: Any) -> None:
    settings.ROUTING_POOL_CACHE_SECONDS = 0
    settings.ROUTING_LOAD_CACHE_SECONDS = 0
    settings.PIVOTDESK_AI_ENABLED = False
    clear_pool_cache()


@pytest.fixture
def backlog(workspace: Workspace) -> list[Ticket]:
    """Given three New tickets created before any routing policy existed (so never queued), then a policy."""
    tickets = [make_ticket(workspace=workspace, subject=f"Scanner firmware question {n}") for n in range(3)]
    policy(workspace)
    assert not QueuedTicket.objects.filter(ticket__in=tickets).exists()
    return tickets


def _offline(*agents: AgentProfile) -> None:
    for a in agents:
        a.status = "offline"
        a.save()


def test_dispatch_lists_unassigned_tickets_that_were_never_queued_with_a_count(
    workspace: Workspace, supervisor: AgentProfile, agent: AgentProfile, backlog: list[Ticket], client_as: Any
) -> None:
    _offline(supervisor, agent)
    queued = make_ticket(workspace=workspace, subject="Arrived with routing on")
    services.route_ticket(actor=Actor.system(), ticket=queued, trigger=Trigger.NEW)  # nobody online: it waits
    assert QueuedTicket.objects.filter(ticket=queued).exists()
    solved = make_ticket(workspace=workspace, subject="Already answered")
    ticket_services.ticket_set_status(ticket=solved, status="solved", actor=Actor.system())

    html = re.sub(r"\s+", " ", client_as(supervisor).get("/dispatch/").content.decode())

    assert "Nobody is waiting" not in html
    start = html.index('id="rt-backlog"')
    section = html[start : html.index("</section>", start)]
    assert 'id="rt-backlog-count">3<' in section
    for ticket in backlog:
        assert f"#{ticket.number}</a>" in section
        assert f"/dispatch/tickets/{ticket.number}/reassign/" in section  # assign by hand, with a reason
    assert "Route 3 tickets now" in section and "/dispatch/backlog/route/" in section
    assert f"#{queued.number}</a>" not in section and f"#{solved.number}" not in html  # queued is listed above
    assert f"#{queued.number}</a>" in html


def test_an_empty_backlog_and_queue_say_nobody_is_waiting(supervisor: AgentProfile, client_as: Any) -> None:
    html = client_as(supervisor).get("/dispatch/queue/").content.decode()
    assert "Nobody is waiting" in html and "rt-backlog" not in html


def test_routing_the_backlog_assigns_the_tickets_an_agent_can_take(
    supervisor: AgentProfile, agent: AgentProfile, backlog: list[Ticket], client_as: Any
) -> None:
    _offline(supervisor)

    client = client_as(supervisor)
    response = client.post("/dispatch/backlog/route/")

    assert response.status_code == 302
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in backlog])} == {agent.pk}
    page = client.get(response["Location"]).content.decode()
    assert "Routed 3 ticket(s): 3 assigned, 0 waiting in the queue." in page
    assert "rt-backlog" not in page


def test_routing_the_backlog_with_nobody_eligible_puts_it_in_the_queue(
    supervisor: AgentProfile, agent: AgentProfile, backlog: list[Ticket]
) -> None:
    _offline(supervisor, agent)

    result = services.backlog_route(actor=Actor.for_agent(supervisor), workspace_id=supervisor.workspace_id)

    assert (result.attempted, result.assigned, result.waiting) == (3, 0, 3)
    assert QueuedTicket.objects.filter(ticket__in=backlog).count() == 3
    again = services.backlog_route(actor=Actor.for_agent(supervisor), workspace_id=supervisor.workspace_id)
    assert again.attempted == 0  # queued tickets are the queue's now (retried on the beat)
    services.drain_queue(actor=Actor.system(), workspace_id=supervisor.workspace_id)  # still nobody: they wait
    assert Ticket.objects.filter(pk__in=[t.pk for t in backlog], assignee__isnull=True).count() == 3


def test_only_a_role_that_manages_routing_may_route_the_backlog(
    agent_client: Any, light_client: Any, backlog: list[Ticket]
) -> None:
    assert agent_client.post("/dispatch/backlog/route/").status_code == 403
    assert light_client.post("/dispatch/backlog/route/").status_code == 403
    assert Ticket.objects.filter(pk__in=[t.pk for t in backlog], assignee__isnull=True).count() == 3
