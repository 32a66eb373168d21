"""Delivering events to a real HTTP receiver on 127.0.0.1: signing, filtering, retries, idempotency, replay."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import team_create
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.common.time import now
from pivotdesk.tickets.services import ticket_set_status
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.webhooks import services, tasks
from pivotdesk.webhooks.domain.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify,
)
from pivotdesk.webhooks.models import WebhookAttempt, WebhookDelivery
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


def _of(receiver, event):
    return [r for r in receiver.requests if r.headers[EVENT_HEADER] == event]


def _make_due(delivery):
    """Given the back-off (or a send's lease) has passed (the test rewinds the clock of this row instead of waiting)."""
    past = now() - dt.timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=past, lease_until=past)


def _event(workspace, name="ticket.updated", **payload):
    return {"id": str(uuid.uuid4()), "name": name, "workspace_id": workspace.pk, "payload": payload}


def test_a_new_ticket_reaches_the_receiver_signed_with_a_ticket_snapshot(
    workspace, contact, agent, receiver, django_capture_on_commit_callbacks
):
    team = team_create(actor=Actor.system(), workspace=workspace, name="Billing")
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())

    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=contact, subject="Refund", assignee=agent, team=team)

    [request] = _of(receiver, "ticket.created")
    assert verify(endpoint.signing_secret, request.headers[SIGNATURE_HEADER], request.body) == int(
        request.headers[TIMESTAMP_HEADER]
    )
    body = json.loads(request.body)
    assert body["type"] == "ticket.created"
    assert body["workspace_id"] == workspace.pk
    assert body["data"]["ticket_id"] == ticket.pk
    assert body["data"]["ticket"] == {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": "Refund",
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee": {"id": agent.pk, "name": agent.name},
        "team": {"id": team.pk, "name": "Billing"},
        "requester_email": contact.email,
        "created_at": body["data"]["ticket"]["created_at"],
        "updated_at": body["data"]["ticket"]["updated_at"],
    }
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_name="ticket.created")
    assert request.headers[DELIVERY_HEADER] == str(delivery.pk)
    assert body["id"] == str(delivery.event_id)
    assert delivery.status == OutboxStatus.SENT
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.next_attempt_at is None
    assert delivery.duration_ms is not None
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.succeeded, attempt.status_code) == (1, True, 200)


def test_a_receiver_rejects_a_body_changed_in_transit(workspace, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace, ticket_id=None))
    [request] = receiver.requests
    with pytest.raises(SignatureError):
        verify(endpoint.signing_secret, request.headers[SIGNATURE_HEADER], request.body.replace(b"ticket", b"tickeT"))


def test_endpoints_receive_only_the_event_types_they_subscribed_to(
    workspace, agent, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(workspace=workspace, url=receiver.url("/status"), event_types=["ticket.status_changed"])
    make_endpoint(workspace=workspace, url=receiver.url("/all"))

    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))

    status_only = [(r.headers[EVENT_HEADER]) for r in receiver.requests if r.path == "/status"]
    everything = {r.headers[EVENT_HEADER] for r in receiver.requests if r.path == "/all"}
    assert status_only == ["ticket.status_changed"]
    assert {"ticket.created", "message.created", "ticket.status_changed"} <= everything


def test_inactive_endpoints_and_other_workspaces_receive_nothing(
    workspace, other_workspace, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(workspace=workspace, url=receiver.url("/off"), active=False)
    make_endpoint(workspace=other_workspace, url=receiver.url("/other"))

    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(workspace=workspace)

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_later_and_succeeds_on_the_retry_scan(workspace, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500, body=b"database down")
    before = now()

    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace, ticket_id=None))

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == OutboxStatus.QUEUED
    assert delivery.last_status_code == 500
    assert describe(delivery.last_error) == "The receiving server answered HTTP 500"
    assert delivery.response_body_excerpt == "database down"
    assert delivery.next_attempt_at is not None
    assert before + dt.timedelta(seconds=14) <= delivery.next_attempt_at <= now() + dt.timedelta(seconds=31)

    tasks.webhook_retry_due.delay()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    _make_due(delivery)
    tasks.webhook_retry_due.delay()

    delivery.refresh_from_db()
    assert len(receiver.requests) == 2
    assert delivery.status == OutboxStatus.SENT
    assert delivery.attempts == 2
    assert delivery.next_attempt_at is None
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (1, 500),
        (2, 200),
    ]
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_fails_for_good_after_the_maximum_attempts(
    workspace, receiver, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_WEBHOOK_MAX_ATTEMPTS = 3
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.always(503)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    for _ in range(4):
        _make_due(delivery) if delivery.next_attempt_at else None
        tasks.webhook_retry_due.delay()
        delivery.refresh_from_db()

    assert len(receiver.requests) == 3
    assert delivery.status == OutboxStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.failed_at is not None
    assert delivery.next_attempt_at is None


def test_the_same_event_fanned_out_twice_gives_one_delivery_and_one_post(
    workspace, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(workspace=workspace, url=receiver.url())
    event = _event(workspace)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(event)
        tasks.webhook_fan_out.delay(event)

    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


def test_a_broker_redelivering_an_event_without_id_creates_no_second_delivery(
    workspace, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(workspace=workspace, url=receiver.url())
    event = {"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {"fields": ["priority"]}}
    task_id = str(uuid.uuid4())

    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.apply(args=(event,), task_id=task_id)
        tasks.webhook_fan_out.apply(args=(event,), task_id=task_id)  # the same message, redelivered
        tasks.webhook_fan_out.apply(args=(event,))  # a second, identical-looking event is a new event

    assert WebhookDelivery.objects.count() == 2
    assert len(receiver.requests) == 2


def test_a_duplicate_deliver_task_does_not_post_again(workspace, receiver, django_capture_on_commit_callbacks):
    make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()

    tasks.webhook_deliver.delay(delivery.pk)
    tasks.webhook_deliver.delay(delivery.pk)
    tasks.webhook_retry_due.delay()

    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_delivery_in_flight_is_not_sent_again_until_its_lease_runs_out(workspace, receiver):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    delivery = WebhookDelivery.objects.create(
        workspace=workspace,
        endpoint=endpoint,
        event_name="ticket.updated",
        payload={"type": "ticket.updated"},
        status=OutboxStatus.SENDING,
        attempts=1,
        next_attempt_at=now() + dt.timedelta(seconds=60),
        lease_until=now() + dt.timedelta(seconds=60),
    )

    assert services.webhook_deliver(actor=Actor.system(), delivery_id=delivery.pk) is None
    assert receiver.requests == []

    _make_due(delivery)  # the worker that held it died; its lease ran out
    assert services.webhook_deliver(actor=Actor.system(), delivery_id=delivery.pk) is not None
    assert len(receiver.requests) == 1


def test_replay_sends_the_same_delivery_again_with_a_fresh_signature(
    workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        replayed = services.webhook_delivery_replay(delivery=delivery, actor=SYSTEM)
    replayed.refresh_from_db()

    first, second = receiver.requests
    assert second.body == first.body
    assert second.headers[DELIVERY_HEADER] == first.headers[DELIVERY_HEADER]
    verify(endpoint.signing_secret, second.headers[SIGNATURE_HEADER], second.body)
    assert replayed.status == OutboxStatus.SENT
    assert replayed.replays == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_replay_gives_a_failed_delivery_a_fresh_attempt_budget(
    workspace, receiver, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_WEBHOOK_MAX_ATTEMPTS = 1
    make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == OutboxStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        replayed = services.webhook_delivery_replay(delivery=delivery, actor=SYSTEM)
    replayed.refresh_from_db()

    assert replayed.status == OutboxStatus.SENT
    assert replayed.failed_at is None
    assert len(receiver.requests) == 2


def test_an_endpoint_failing_too_often_in_a_row_is_disabled_with_a_reason(
    workspace, receiver, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.PIVOTDESK_WEBHOOK_MAX_ATTEMPTS = 5
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.always(500)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            tasks.webhook_fan_out.delay(_event(workspace))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 3
    assert endpoint.disabled_at is not None
    assert describe(endpoint.disabled_reason) == "Turned off after 3 failed attempts in a row"

    # Later events create no delivery, and the open retries end without another POST.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    for delivery in WebhookDelivery.objects.all():
        _make_due(delivery)
    tasks.webhook_retry_due.delay()
    assert WebhookDelivery.objects.count() == 3
    assert len(receiver.requests) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {OutboxStatus.FAILED}
    reasons = {describe(d.last_error) for d in WebhookDelivery.objects.all()}
    assert reasons == {"Not sent: the endpoint is off: Turned off after 3 failed attempts in a row"}

    # Turning it on again clears the disablement.
    services.webhook_endpoint_update(endpoint=endpoint, actor=SYSTEM, changes={"active": True})
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert (endpoint.consecutive_failures, endpoint.disabled_reason) == (0, "")


def test_a_success_resets_the_failure_streak(workspace, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500, 500)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            tasks.webhook_fan_out.delay(_event(workspace))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_slow_receiver_times_out_and_is_retried(workspace, receiver, settings, django_capture_on_commit_callbacks):
    settings.PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS = 0.2
    make_endpoint(workspace=workspace, url=receiver.url())
    receiver.delay_s = 1.0

    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == OutboxStatus.QUEUED
    assert delivery.last_status_code is None
    assert describe(delivery.last_error).startswith("No answer within 0.2 s")


def test_an_unreachable_receiver_is_a_recorded_failure(workspace, receiver, django_capture_on_commit_callbacks):
    make_endpoint(workspace=workspace, url="http://127.0.0.1:9/nothing-listens-here")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == OutboxStatus.QUEUED
    assert "Could not connect" in delivery.last_error  # terse: an open and a closed port look alike


def test_a_redirect_is_not_followed_and_counts_as_a_failure(workspace, receiver, django_capture_on_commit_callbacks):
    make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(302)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (OutboxStatus.QUEUED, 302)
    assert len(receiver.requests) == 1


def test_a_test_ping_reaches_even_an_endpoint_that_is_off(workspace, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url(), active=False)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_endpoint_ping(endpoint=endpoint, actor=SYSTEM)
    delivery.refresh_from_db()
    [request] = receiver.requests
    assert request.headers[EVENT_HEADER] == "webhook.ping"
    verify(endpoint.signing_secret, request.headers[SIGNATURE_HEADER], request.body)
    assert delivery.status == OutboxStatus.SENT


def test_the_retry_scan_walks_every_due_delivery_in_batches(workspace, receiver, settings):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    due = now() - dt.timedelta(minutes=5)
    for i in range(5):
        WebhookDelivery.objects.create(
            workspace=workspace,
            endpoint=endpoint,
            event_name="ticket.updated",
            payload={"n": i},
            status=OutboxStatus.QUEUED,
            next_attempt_at=due,  # the same instant: the keyset must break ties by id
        )
    WebhookDelivery.objects.create(
        workspace=workspace,
        endpoint=endpoint,
        event_name="ticket.updated",
        status=OutboxStatus.QUEUED,
        next_attempt_at=now() + dt.timedelta(hours=1),
    )

    assert services.webhook_retry_due(batch_size=2) == 5
    assert sorted(json.loads(r.body)["n"] for r in receiver.requests) == [0, 1, 2, 3, 4]
