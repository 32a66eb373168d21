"""Durable events: a change committed while the broker is down still gets every reaction, once, when work resumes.

Given a workspace with an SLA policy and a webhook endpoint (a real HTTP receiver on 127.0.0.1), when tickets are
created through the API while the Celery broker is unreachable, the requests succeed without waiting for the broker
and the events are stored with the tickets; when the relay runs again (the broker is back), every reaction happens
exactly once: each ticket gets its SLA clocks and the receiver gets each event once, however often the relay runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import api_token_create
from pivotdesk.common import relay
from pivotdesk.common.models import EventRecord, EventState
from pivotdesk.sla.models import TicketSLA
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_targets
from pivotdesk.tickets.models import Ticket
from pivotdesk.webhooks.models import WebhookDelivery
from pivotdesk.webhooks.services.endpoints import webhook_endpoint_create

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class _Receiver:
    def __init__(self) -> None:
        self.event_ids: list[str] = []
        self.lock = threading.Lock()


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, str]]:
    rec = _Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with rec.lock:
                rec.event_ids.append(body["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rec, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def broker_down(settings: Any) -> Iterator[None]:
    """The Celery broker cannot be reached and nothing runs eagerly: as in a web process during an outage."""
    from config.celery import app

    settings.PIVOTDESK_EVENTS_INLINE = False
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = UNREACHABLE_BROKER, False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.django_db(transaction=True)
def test_tickets_created_while_the_broker_is_down_get_every_reaction_once_when_it_is_back(
    workspace, admin_agent, receiver, settings, broker_down
):
    rec, url = receiver
    settings.PIVOTDESK_AI_ENABLED = False
    CalendarFactory(workspace=workspace, is_default=True)
    add_targets(PolicyFactory(workspace=workspace, name="Standard"), "normal", first_reply=60, resolution=480)
    webhook_endpoint_create(workspace=workspace, url=url, actor=Actor.system())
    _, secret = api_token_create(actor=Actor.system(), agent=admin_agent, name="outage", scope="write")
    client = Client(headers={"authorization": f"Bearer {secret}"})

    # When: three tickets are created through the API while the broker is down.
    started = time.monotonic()
    for i in range(3):
        response = client.post(
            "/api/v1/tickets",
            {"subject": f"断网了 {i}", "body": "Since this morning", "requester": {"email": f"c{i}@example.com"}},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    elapsed = time.monotonic() - started

    # Then: the requests did not wait for the broker, nothing has reacted yet, and the events are stored.
    assert elapsed < 6.0  # the old path retried the broker ~2.5 s per ticket, then lost the reactions
    tickets = list(Ticket.objects.filter(workspace=workspace))
    assert len(tickets) == 3
    assert not TicketSLA.objects.filter(ticket__in=tickets).exists()
    assert rec.event_ids == []
    stored = list(EventRecord.objects.filter(workspace_id=workspace.pk, state=EventState.PENDING))
    assert {e.name for e in stored} >= {"ticket.created", "message.created"}

    # When: the broker is back and the relay runs (the relay process, or beat's backstop) — twice.
    from config.celery import app

    app.conf.task_always_eager = True
    relay.relay_for(seconds=60)
    relay.relay_for(seconds=60)

    # Then: every ticket has its SLA clocks, and every stored event reached the webhook receiver exactly once.
    for ticket in tickets:
        assert TicketSLA.objects.filter(ticket=ticket, metric="first_reply").count() == 1
    all_events = EventRecord.objects.filter(workspace_id=workspace.pk)
    assert all_events.exclude(state=EventState.DONE).count() == 0
    expected = {str(e.event_id) for e in all_events}
    assert sorted(rec.event_ids) == sorted(expected)  # each once
    assert WebhookDelivery.objects.filter(workspace=workspace).count() == len(expected)
