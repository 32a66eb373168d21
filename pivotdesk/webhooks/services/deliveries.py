"""Delivering events to webhook endpoints: fan-out, one signed POST per claim, retries with back-off, replay.

A delivery is claimed with one conditional UPDATE (open, due → `sending` with a lease in `next_attempt_at`), so a
duplicate task, a retry scan racing the first send, or a second worker never POSTs the same attempt twice, and a
succeeded delivery is never sent again unless someone replays it. No database transaction is held open while the
HTTP request runs. A worker that dies mid-send leaves a `sending` row whose lease expires; the retry scan picks it
up again.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict
from pivotdesk.common.time import now
from pivotdesk.tickets.selectors import ticket_snapshot
from pivotdesk.webhooks import selectors
from pivotdesk.webhooks.domain.backoff import backoff_seconds
from pivotdesk.webhooks.domain.signing import signed_headers
from pivotdesk.webhooks.models import (
    OPEN_STATUSES,
    PING_EVENT,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from pivotdesk.webhooks.services.endpoints import _require

log = logging.getLogger(__name__)

USER_AGENT = "PivotDesk-Webhooks/1.0"
EXCERPT_BYTES = 2048
LEASE_MARGIN_S = 60.0
DEFAULT_DISABLE_AFTER_FAILURES = 20


def _max_attempts() -> int:
    return max(1, int(settings.PIVOTDESK_WEBHOOK_MAX_ATTEMPTS))


def _disable_after() -> int:
    return int(getattr(settings, "PIVOTDESK_WEBHOOK_DISABLE_AFTER_FAILURES", DEFAULT_DISABLE_AFTER_FAILURES))


def _event_id(event: dict[str, Any], fallback: str | None) -> uuid.UUID:
    """The event's id: given by the publisher, else the caller's fallback (the Celery task id, which stays the same
    when the broker redelivers the message), else a new one."""
    payload = event.get("payload") or {}
    for candidate in (event.get("id"), payload.get("event_id"), fallback):
        if candidate:
            try:
                return uuid.UUID(str(candidate))
            except ValueError:
                return uuid.uuid5(uuid.NAMESPACE_URL, f"pivotdesk-event:{candidate}")
    return uuid.uuid4()


def build_payload(*, event: dict[str, Any], event_id: uuid.UUID, at: dt.datetime) -> dict[str, Any]:
    """The JSON body receivers get: the event, plus a snapshot of the ticket when the event is about one."""
    data = dict(event.get("payload") or {})
    workspace_id = int(event["workspace_id"])
    ticket_id = data.get("ticket_id")
    if isinstance(ticket_id, int):
        data["ticket"] = ticket_snapshot(workspace_id=workspace_id, ticket_id=ticket_id)
    return {
        "id": str(event_id),
        "type": str(event["name"]),
        "created_at": at.isoformat(),
        "workspace_id": workspace_id,
        "data": data,
    }


def webhook_fan_out(*, event: dict[str, Any], fallback_event_id: str | None = None) -> list[WebhookDelivery]:
    """Create one delivery per active endpoint of the workspace subscribed to the event, and queue each after commit.

    Idempotent: one delivery per (endpoint, event id), so fanning the same event out twice sends it once.
    Returns the deliveries created by this call.
    """
    from pivotdesk.webhooks.tasks import webhook_deliver

    name = str(event["name"])
    workspace_id = int(event["workspace_id"])
    endpoints = [
        e for e in selectors.deliverable_endpoints(workspace_id=workspace_id) if e.wants(name) and name != PING_EVENT
    ]
    if not endpoints:
        return []
    at = now()
    event_id = _event_id(event, fallback_event_id)
    payload = build_payload(event=event, event_id=event_id, at=at)
    created: list[WebhookDelivery] = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery, is_new = WebhookDelivery.objects.get_or_create(
                endpoint=endpoint,
                event_id=event_id,
                defaults={
                    "workspace_id": workspace_id,
                    "event_name": name,
                    "payload": payload,
                    "next_attempt_at": at,
                },
            )
            if is_new:
                created.append(delivery)
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: [webhook_deliver.delay(pk) for pk in ids])
    return created


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


def _body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~0.1 s; one context serves every delivery of the process (it is thread-safe).
    return httpx.create_ssl_context()


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> _Outcome:
    """One signed POST; never raises for network trouble (that is an outcome with an error)."""
    body = _body(delivery)
    headers = signed_headers(endpoint.secret, body, event=delivery.event_name, delivery_id=str(delivery.pk))
    headers["User-Agent"] = USER_AGENT
    timeout = float(settings.PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, verify=_ssl_context()) as client,
            client.stream("POST", endpoint.url, content=body, headers=headers) as response,
        ):
            excerpt = bytearray()
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            code = response.status_code
    except httpx.TimeoutException as exc:
        return _Outcome(False, None, f"timeout after {timeout:g} s ({type(exc).__name__})", "", _ms(started))
    except httpx.HTTPError as exc:
        return _Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000], "", _ms(started))
    text = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", errors="replace")
    ok = 200 <= code < 300
    return _Outcome(ok, code, "" if ok else f"HTTP {code}", text, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _claim(delivery_id: int, at: dt.datetime) -> bool:
    """Take an open, due delivery for one attempt; False when it is done, in flight, or not due yet."""
    lease = at + dt.timedelta(seconds=float(settings.PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS) + LEASE_MARGIN_S)
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=at).update(
            status=DeliveryStatus.SENDING, next_attempt_at=lease, attempts=F("attempts") + 1, last_attempt_at=at
        )
    )


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one attempt of a delivery if it is open and due; record the outcome. Returns None when there was nothing
    to do (already succeeded or failed, being sent by someone else, or not due yet)."""
    at = now()
    if not _claim(delivery_id, at):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.deliverable and delivery.event_name != PING_EVENT:
        reason = endpoint.disabled_reason or "endpoint is turned off"
        outcome = _Outcome(False, None, f"not sent: {reason}", "", 0)
        return _record(delivery, outcome, final=True, count_failure=False)
    outcome = _post(endpoint, delivery)
    log.info(
        "webhook delivery %s (%s) attempt %s to %s: %s in %d ms",
        delivery.pk,
        delivery.event_name,
        delivery.attempts,
        endpoint.url,
        outcome.status_code or outcome.error,
        outcome.duration_ms,
    )
    return _record(delivery, outcome)


def _record(
    delivery: WebhookDelivery, outcome: _Outcome, *, final: bool = False, count_failure: bool = True
) -> WebhookDelivery:
    at = now()
    with transaction.atomic():
        d = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.create(
            delivery=d,
            number=WebhookAttempt.objects.filter(delivery=d).count() + 1,
            succeeded=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body_excerpt=outcome.excerpt,
            duration_ms=outcome.duration_ms,
        )
        d.last_status_code = outcome.status_code
        d.last_error = outcome.error
        d.response_body_excerpt = outcome.excerpt
        d.duration_ms = outcome.duration_ms
        if outcome.ok:
            d.status = DeliveryStatus.SUCCEEDED
            d.next_attempt_at = None
            d.succeeded_at = at
            WebhookEndpoint.objects.filter(pk=d.endpoint_id).update(consecutive_failures=0)
        else:
            if final or d.attempts >= _max_attempts():
                d.status = DeliveryStatus.FAILED
                d.next_attempt_at = None
                d.failed_at = at
            else:
                d.status = DeliveryStatus.RETRYING
                d.next_attempt_at = at + dt.timedelta(seconds=backoff_seconds(d.attempts))
            if count_failure:
                _count_failure(d.endpoint_id, at)
        d.save()
    return d


def _count_failure(endpoint_id: int, at: dt.datetime) -> None:
    """One more failure in a row; past the threshold the endpoint is disabled with a reason."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    threshold = _disable_after()
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint_id, disabled_at__isnull=True, consecutive_failures__gte=threshold
    ).update(disabled_at=at, disabled_reason=f"disabled after {threshold} consecutive failed attempts")
    if disabled:
        log.warning("webhook endpoint %s disabled after %s consecutive failures", endpoint_id, threshold)


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery again with a fresh attempt budget (the same event id and body, a new signature)."""
    from pivotdesk.webhooks.tasks import webhook_deliver

    _require(actor)
    at = now()
    with transaction.atomic():
        updated = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(status=DeliveryStatus.SENDING, next_attempt_at__gt=at)
            .update(
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=at,
                succeeded_at=None,
                failed_at=None,
                replays=F("replays") + 1,
            )
        )
        if not updated:
            raise Conflict("This delivery is being sent right now; try again in a moment.")
        delivery_id = delivery.pk
        transaction.on_commit(lambda: webhook_deliver.delay(delivery_id))
    delivery.refresh_from_db()
    return delivery


def webhook_retry_due(*, batch_size: int = 200, max_batches: int = 10, at: dt.datetime | None = None) -> int:
    """Queue a send for every open delivery whose next attempt is due (and for sends whose lease ran out).

    Reads in keyset batches over the `next_attempt_at` index; returns how many were queued. Queuing a delivery
    twice is harmless: only one task wins the claim.
    """
    from pivotdesk.webhooks.tasks import webhook_deliver

    at = at or now()
    queued = 0
    after: tuple[dt.datetime, int] | None = None
    for _ in range(max_batches):
        batch = selectors.due_deliveries(at=at, limit=batch_size, after=after)
        for delivery_id, _due in batch:
            webhook_deliver.delay(delivery_id)
        queued += len(batch)
        if len(batch) < batch_size:
            break
        last_id, last_due = batch[-1]
        after = (last_due, last_id)
    return queued
