"""Race safety on PostgreSQL: escalation scanners running at once (two beat processes, a slow scan overlapping the
next) move each due page exactly once — one level-2 page per person, one timeline entry, one notification."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory
from pivotdesk.common.time import now
from pivotdesk.notifications.models import Notification
from pivotdesk.oncall.models import Page
from pivotdesk.oncall.services import paging, policies
from pivotdesk.tickets.models import TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

SCANNERS = 4
PAGES = 12

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions: SQLite serialises writers (run on PostgreSQL)")


def test_concurrent_scanners_escalate_each_page_once():
    # given 12 urgent tickets paged at level 1 whose acknowledgement timeout has passed
    workspace = WorkspaceFactory()
    boss = Actor.system()
    first, second = AgentFactory(workspace=workspace), AgentFactory(workspace=workspace)
    policy = policies.policy_save(actor=boss, workspace=workspace, name="Down", conditions={"priorities": ["urgent"]})
    policies.policy_steps_set(
        actor=boss,
        policy=policy,
        steps=[{"level": 0, "timeout_minutes": 5, "agent": first.pk}, {"level": 1, "agent": second.pk}],
    )
    pages = []
    for i in range(PAGES):
        ticket = make_ticket(workspace=workspace, subject=f"line {i} down", priority="urgent")
        paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)  # None when the ticket's own event paged it already
        pages.append(Page.objects.get(ticket=ticket).pk)
    Page.objects.filter(pk__in=pages).update(next_escalation_at=now() - dt.timedelta(minutes=1))
    at = now()
    barrier = threading.Barrier(SCANNERS)
    moved: list[int] = []
    errors: list[BaseException] = []

    def scanner() -> None:
        try:
            barrier.wait()
            moved.append(paging.escalate_due(actor=paging.SYSTEM, at=at))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # when four scanners run at the same instant
    threads = [threading.Thread(target=scanner) for _ in range(SCANNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then every page moved once, in total and each: level 2, one notification and one timeline entry per page
    assert not errors, errors
    assert sum(moved) == PAGES
    assert set(Page.objects.filter(pk__in=pages).values_list("level", flat=True)) == {1}
    notified = Counter(
        Notification.objects.filter(recipient=second, kind="oncall.page").values_list("ticket_id", flat=True)
    )
    assert len(notified) == PAGES and set(notified.values()) == {1}
    level_two = Counter(
        e.ticket_id
        for e in TicketEvent.objects.filter(ticket__workspace=workspace, verb="oncall_paged")
        if (e.data or {}).get("level") == 2
    )
    assert len(level_two) == PAGES and set(level_two.values()) == {1}
