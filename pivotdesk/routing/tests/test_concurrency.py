"""Race safety on PostgreSQL: many workers routing many tickets at once never exceed a capacity or double-assign."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory
from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, RoutingPolicy, Trigger
from pivotdesk.tickets.models import Status, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

THREADS = 8
TICKETS = 200
AGENTS = 20
CAPACITY = {"email": 3, "chat": 2}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs real row locks: SQLite serialises writers, so there is no race to test (run on PostgreSQL)")


def test_many_workers_never_exceed_capacity_nor_double_assign():
    # given 20 agents with small capacities and 200 tickets on two channel types, routed by nobody yet
    workspace = WorkspaceFactory()
    policy = RoutingPolicy.objects.create(workspace=workspace, name="All", active=False, strategy="least_loaded")
    agents = [AgentFactory(workspace=workspace, capacity=dict(CAPACITY)) for _ in range(AGENTS)]
    tickets = [make_ticket(workspace=workspace, channel="chat" if i % 3 == 0 else "email") for i in range(TICKETS)]
    RoutingPolicy.objects.filter(pk=policy.pk).update(active=True)
    ids = [t.pk for t in tickets]
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            barrier.wait()
            for ticket_id in order:
                ticket = Ticket.objects.get(pk=ticket_id)
                services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # when 8 workers route all of them at once, in different orders
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    services.drain_queue(
        actor=Actor.system(), workspace_id=workspace.pk
    )  # what a worker left waiting (a skipped locked row) is retried

    # then no agent holds more open tickets of a channel type than its capacity …
    per_agent = Counter(
        (a, "chat" if ch == "chat" else "email")
        for a, ch in Ticket.objects.filter(workspace=workspace, status__in=[Status.NEW, Status.OPEN])
        .exclude(assignee=None)
        .values_list("assignee_id", "channel")
    )
    for (agent_id, kind), n in per_agent.items():
        assert n <= CAPACITY[kind], f"agent {agent_id} has {n} {kind} tickets"
    # … no ticket was assigned twice …
    assigned_events = Counter(
        TicketEvent.objects.filter(ticket__workspace=workspace, verb="assigned").values_list("ticket_id", flat=True)
    )
    assert max(assigned_events.values()) == 1
    assert RoutingDecision.objects.filter(workspace=workspace, agent__isnull=False).values(
        "ticket"
    ).distinct().count() == (RoutingDecision.objects.filter(workspace=workspace, agent__isnull=False).count())
    # … every slot is used, and every ticket that did not fit waits visibly in the queue
    slots = {kind: AGENTS * cap for kind, cap in CAPACITY.items()}
    chat = sum(1 for i in range(TICKETS) if i % 3 == 0)
    expected = min(slots["chat"], chat) + min(slots["email"], TICKETS - chat)
    assert sum(per_agent.values()) == expected
    assert QueuedTicket.objects.filter(workspace=workspace).count() == TICKETS - expected
    assert {a.pk for a in agents} >= {agent_id for agent_id, _ in per_agent}
