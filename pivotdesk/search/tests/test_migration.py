"""Upgrading keeps search working at once: tickets' migration 0007 copies the old per-ticket documents into the
generic table (their words reach the FTS5 table through its triggers) and drops the old table; it runs backwards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tickets", "0006_search_document"), ("search", "0001_initial")]
AFTER = [("tickets", "0007_search_documents_to_search_app"), ("search", "0002_stored_tsvector")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_old_documents_are_copied_and_found_after_the_upgrade():
    from pivotdesk.search import selectors

    # Given a desk at the old layout with one indexed ticket
    old = _migrate(BEFORE)
    workspace = old.get_model("accounts", "Workspace").objects.create(name="W", slug="w-migration")
    contact = old.get_model("customers", "Contact").objects.create(workspace_id=workspace.pk, name="c")
    ticket = old.get_model("tickets", "Ticket").objects.create(
        workspace_id=workspace.pk, number=1, subject="退款", requester_id=contact.pk
    )
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    old.get_model("tickets", "TicketSearchDocument").objects.create(
        ticket_id=ticket.pk, workspace_id=workspace.pk, body="退款 申请", indexed_at=at, source_updated_at=at
    )

    # When the upgrade runs
    new = _migrate(AFTER)

    # Then the document is in the generic table, found by the index, and the old table is gone
    doc = new.get_model("search", "SearchDocument").objects.get()
    assert (doc.kind, doc.object_id, doc.body, doc.source_updated_at) == ("ticket", ticket.pk, "退款 申请", at)
    found = selectors.matching_ids(kind="ticket", workspace_id=workspace.pk, query="申请")
    assert found is not None and [row[0] for row in found] == [ticket.pk]
    assert "tickets_ticketsearchdocument" not in connection.introspection.table_names()

    # And backwards the words go back to the old table
    back = _migrate(BEFORE)
    assert back.get_model("tickets", "TicketSearchDocument").objects.get().body == "退款 申请"
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())  # every app back at its latest migration for the next tests
