"""A search's page: the same tickets in the same order however it is cut; on PostgreSQL read ids first (the page's
ids, ordered and limited, without joins; then only those rows joined)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.pagination import paginate
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import selectors
from pivotdesk.tickets.models import Priority, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

PRIORITIES = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


@pytest.fixture
def matches(workspace: Workspace, contact: Contact) -> list[Ticket]:
    """Given 23 tickets about an order (mixed priorities) and 5 about something else."""
    found = [
        make_ticket(workspace=workspace, requester=contact, subject=f"Order {n} late", priority=PRIORITIES[n % 4])
        for n in range(23)
    ]
    for n in range(5):
        make_ticket(workspace=workspace, requester=contact, subject=f"Printer {n} jammed")
    return found


@pytest.mark.parametrize("sort", ["-updated_at", "priority", "-number", "subject", "relevance"])
def test_given_a_search_when_paged_then_the_pages_are_the_ordered_matches_cut_in_order(
    agent: AgentProfile, workspace: Workspace, matches: list[Ticket], sort: str
) -> None:
    filters = selectors.TicketFilters(q="order")
    qs = selectors.ticket_list(workspace=workspace, agent=agent, filters=filters, sort=sort)
    everything = [t.pk for t in qs.all()]  # unsliced: the plain query

    pages = [paginate(qs, limit=10, offset=offset) for offset in (0, 10, 20)]

    assert sorted(everything) == sorted(t.pk for t in matches)
    assert [t.pk for page in pages for t in page.items] == everything
    assert [page.count for page in pages] == [23, 23, 23]
    assert all(t.requester.name for page in pages for t in page.items)  # the joined rows are there


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ids first on PostgreSQL only (SQLite keeps one query)")
def test_given_a_search_on_postgresql_when_a_page_is_read_then_its_ids_come_first_without_the_joins(
    agent: AgentProfile, workspace: Workspace, matches: list[Ticket]
) -> None:
    qs = selectors.ticket_list(
        workspace=workspace, agent=agent, filters=selectors.TicketFilters(q="order"), sort="-updated_at"
    )

    with CaptureQueriesContext(connection) as captured:
        rows = list(qs[0:10])

    ids_sql, rows_sql = (q["sql"] for q in captured.captured_queries[:2])
    assert len(rows) == 10
    assert "LIMIT 10" in ids_sql and "JOIN" not in ids_sql.upper()  # the page's ids, without the row's joins
    assert "JOIN" in rows_sql.upper() and "LIMIT" not in rows_sql.upper()  # then only those rows, joined
