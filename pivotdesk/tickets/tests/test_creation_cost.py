"""What creating a ticket costs the database: the statements are pinned, so a new query on this path is a decision.

A ticket with its first message is: one `UPDATE … RETURNING` for the number, the ticket's INSERT (its first message
counted in it), the timeline row, the message, and the two events stored with them — inside one transaction, with
no savepoint and no broker message. The workspace's configuration (status labels, custom fields) comes from the
per-process configuration cache, which a configuration change invalidates.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.models import EventRecord
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets.models import Status
from pivotdesk.tickets.services import status_definition_create
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

CREATE_STATEMENTS = [
    "UPDATE",  # the ticket number, RETURNING it
    "INSERT",  # the ticket, with message_count = 1 and the customer's message time
    "INSERT",  # the timeline: created
    "INSERT",  # ticket.created
    "INSERT",  # the message
    "INSERT",  # message.created
]


@pytest.fixture
def cached_configuration(settings):
    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 60
    settings.PIVOTDESK_EVENTS_INLINE = False  # measure the write, not the reactions


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    verbs = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    # The test runs inside a transaction, so the service's own transaction is a savepoint here: not a statement
    # of the service in production (BEGIN … COMMIT there).
    return [v for v in verbs if v not in ("SAVEPOINT", "RELEASE")]


def test_creating_a_ticket_with_its_first_message_takes_six_statements(workspace, cached_configuration):
    contact = ContactFactory(workspace=workspace)
    make_ticket(workspace=workspace, requester=contact)  # the workspace's first ticket creates its sequence row

    with CaptureQueriesContext(connection) as ctx:
        ticket = make_ticket(workspace=workspace, requester=contact, subject="打印机卡纸", body="第三次了")

    assert _statements(ctx) == CREATE_STATEMENTS, [q["sql"][:120] for q in ctx.captured_queries]
    assert sum(q["sql"].startswith("SAVEPOINT") for q in ctx.captured_queries) == 1  # the service's atomic only
    ticket.refresh_from_db()
    assert ticket.message_count == 1 and ticket.messages.count() == 1
    assert ticket.last_customer_message_at is not None
    assert list(EventRecord.objects.filter(payload__ticket_id=ticket.pk).values_list("name", flat=True)) == [
        "ticket.created",
        "message.created",
    ]


def test_a_new_status_label_is_used_at_once_despite_the_configuration_cache(
    workspace, admin_agent, cached_configuration, django_capture_on_commit_callbacks
):
    make_ticket(workspace=workspace)  # loads (and caches) the labels
    with django_capture_on_commit_callbacks(execute=True):
        label = status_definition_create(
            workspace=workspace,
            category=Status.NEW,
            label="待分派",
            is_default=True,
            actor=Actor.for_agent(admin_agent),
        )
    assert make_ticket(workspace=workspace).custom_status_id == label.pk


def test_the_first_message_of_a_ticket_is_counted_once(workspace):
    ticket = make_ticket(workspace=workspace, body="hello")
    ticket.refresh_from_db()
    assert ticket.message_count == 1
    no_body = make_ticket(workspace=workspace, body="")
    no_body.refresh_from_db()
    assert no_body.message_count == 0 and no_body.last_customer_message_at is None
