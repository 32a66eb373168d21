"""The queue's column chooser (kept per agent on the server) and the counts on every scope and saved view."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import TicketAccess
from pivotdesk.tickets.models import QueueLayout
from pivotdesk.tickets.services import queue_columns_save
from pivotdesk.tickets.services.configuration import saved_view_create
from pivotdesk.tickets.tests.factories import make_ticket


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()


def _counts(html: str) -> dict[str, int]:
    return {k: int(v.replace(",", "")) for k, v in re.findall(r'id="count-([\w-]+)"[^>]*>([\d,]+)<', html)}


def test_every_scope_and_view_has_its_count_matching_its_list(client_as, agent, workspace) -> None:
    for _ in range(3):
        make_ticket(workspace=workspace)
    make_ticket(workspace=workspace, assignee=agent, priority="urgent")
    view = saved_view_create(
        workspace=workspace, actor=Actor.for_agent(agent), name="Urgent", filters={"priority": "urgent"}, owner=agent
    )
    counts = _counts(client_as(agent).get("/queue/counts/").content.decode())
    assert counts["scope-mine"] == 1
    assert counts["scope-unassigned"] == 3
    assert counts["scope-all"] == 4
    assert counts[f"view-{view.pk}"] == 1
    # each count is what the list itself says
    page = client_as(agent).get("/queue/?scope=unassigned").content.decode()
    assert page.count('class="qrow') == 3


def test_counts_follow_what_the_agent_may_see(client_as, agent, workspace, other_workspace) -> None:
    agent.ticket_access = TicketAccess.ASSIGNED
    agent.save(update_fields=["ticket_access"])
    make_ticket(workspace=workspace)
    make_ticket(workspace=workspace, assignee=agent)
    make_ticket(workspace=other_workspace)
    counts = _counts(client_as(agent).get("/queue/counts/").content.decode())
    assert counts["scope-all"] == 1 and counts["scope-unassigned"] == 0


def test_counts_are_cached_per_agent_for_a_few_seconds(client_as, agent, workspace, django_assert_max_num_queries):
    make_ticket(workspace=workspace)
    client = client_as(agent)
    first = _counts(client.get("/queue/counts/").content.decode())
    make_ticket(workspace=workspace)
    with django_assert_max_num_queries(4):  # the session and the membership; no count
        again = _counts(client.get("/queue/counts/").content.decode())
    assert again == first


def test_the_chosen_columns_are_kept_per_agent_and_shown(client_as, agent, supervisor, workspace) -> None:
    make_ticket(workspace=workspace, subject="Printer on fire")
    client = client_as(agent)
    answer = client.post("/queue/columns/", {"columns": ["number", "status", "updated"], "next": "/queue/"})
    assert answer.status_code == 302
    assert QueueLayout.objects.get(agent=agent).columns == ["number", "subject", "status", "updated"]
    page = client.get("/queue/").content.decode()
    assert 'class="col-team"' not in page and 'class="col-requester"' not in page
    assert 'class="col-status"' in page and "Printer on fire" in page
    rows = client.get("/queue/rows/").content.decode()
    assert '<td class="col-team"' not in rows and '<td class="col-status"' in rows
    # a colleague keeps the default columns
    assert 'class="col-team"' in client_as(supervisor).get("/queue/").content.decode()


def test_an_unknown_column_is_a_readable_error_and_changes_nothing(client_as, agent) -> None:
    answer = client_as(agent).post("/queue/columns/", {"columns": ["number", "salary"]})
    assert answer.status_code == 422 and "Unknown column" in answer.content.decode()
    assert not QueueLayout.objects.exists()


def test_an_agent_chooses_only_their_own_columns(agent, supervisor) -> None:
    from pivotdesk.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        queue_columns_save(actor=Actor.for_agent(supervisor), agent=agent, columns=["number"])
