"""End to end: ticket.updated carries actor_type; the override tracker skips the AI's (and the system's) own
changes without a query, and still marks a prediction overridden when a person changes the field."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import selectors
from pivotdesk.ai.models import Prediction
from pivotdesk.common.models import EventRecord
from pivotdesk.tickets import services as ts
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_triage_on_create(settings):
    settings.PIVOTDESK_AI_ENABLED = False  # no triage on ticket.created: the tracker is what is checked


def _last_updated(ticket):
    return EventRecord.objects.filter(name="ticket.updated", payload__ticket_id=ticket.pk).latest("pk")


def test_the_override_tracker_skips_the_ais_own_changes_and_marks_a_persons(
    workspace, contact, agent, django_capture_on_commit_callbacks
):
    billing = ts.category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    shipping = ts.category_create(actor=Actor.system(), workspace=workspace, name="Shipping")
    ticket = make_ticket(workspace=workspace, requester=contact)
    triage = Actor(kind="ai", label="triage m@1")
    with django_capture_on_commit_callbacks(execute=True):
        ts.ticket_update(ticket=ticket, actor=triage, changes={"category": billing})
    prediction = Prediction.objects.create(
        workspace=workspace,
        ticket=ticket,
        field="category",
        value=billing.pk,
        label="Billing",
        confidence=0.9,
        status="applied",
        model_name="m",
        model_version="1",
    )
    # AI's own update: skipped without a query
    with django_capture_on_commit_callbacks(execute=True):
        ts.ticket_update(
            ticket=ticket, actor=triage, changes={"priority": "high", "category": billing, "language": "en"}
        )
    event = _last_updated(ticket).as_domain_event().as_dict()
    assert event["payload"]["actor_type"] == "ai"
    with CaptureQueriesContext(connection) as q:
        assert selectors.event_may_override(event) is False
    assert len(q) == 0
    # a person's change: looked at, and (through the real subscriber table, inline) marked overridden
    with django_capture_on_commit_callbacks(execute=True):
        ts.ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"category": shipping})
    event = _last_updated(ticket).as_domain_event().as_dict()
    assert event["payload"]["actor_type"] == "agent"
    assert selectors.event_may_override(event) is True
    prediction.refresh_from_db()
    assert prediction.status == "overridden"
