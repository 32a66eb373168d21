"""Delivering events to webhook endpoints: fan-out, one signed POST per claim, retries with back-off, replay.

Deliveries are rows of the one outbox (`pivotdesk.common.outbox`): claimed with a lease by one conditional UPDATE,
so a duplicate task, a retry scan racing the first send, or a second worker never POSTs the same attempt twice, and
a sent delivery is never sent again unless someone replays it. No database transaction is held open while the HTTP
request runs. A worker that dies mid-send leaves a `sending` row whose lease expires; the retry scan claims it again
(the receiver sees the same event id, `X-PivotDesk-Delivery` and body, so an idempotent receiver acts once).
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
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common import egress, outbox
from pivotdesk.common.delivery_errors import DeliveryErrorCode, encode, from_exception
from pivotdesk.common.errors import Conflict
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.common.time import now
from pivotdesk.tickets.selectors import ticket_snapshot
from pivotdesk.webhooks import selectors
from pivotdesk.webhooks.domain.signing import signed_headers
from pivotdesk.webhooks.errors import WebhookErrorCode
from pivotdesk.webhooks.models import PING_EVENT, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pivotdesk.webhooks.services.endpoints import _require

log = logging.getLogger(__name__)

USER_AGENT = "PivotDesk-Webhooks/1.0"
EXCERPT_BYTES = 2048
LEASE_MARGIN_S = 60.0
DEFAULT_DISABLE_AFTER_FAILURES = 20
BACKOFF_CAP_S = 6 * 60 * 60.0


def _max_attempts() -> int:
    return max(1, int(settings.PIVOTDESK_WEBHOOK_MAX_ATTEMPTS))


def _lease_seconds() -> float:
    """How long one claim holds a delivery: the HTTP timeout plus a margin (a setting can shorten it in tests)."""
    lease = getattr(settings, "PIVOTDESK_WEBHOOK_LEASE_SECONDS", None)
    return float(lease) if lease else float(settings.PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS) + LEASE_MARGIN_S


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


def webhook_fan_out(
    *, event: dict[str, Any], actor: Actor, fallback_event_id: str | None = None
) -> list[WebhookDelivery]:
    """Create one delivery per active endpoint of the workspace subscribed to the event, and queue each after commit.

    Idempotent: one delivery per (endpoint, event id), so fanning the same event out twice sends it once.
    Returns the deliveries created by this call. The system only (the subscriber table's task).
    """
    from pivotdesk.webhooks.tasks import webhook_deliver

    authorize_system(actor)
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
    # Decrypted here only; during a rotation's grace period the body carries a signature under each valid secret.
    keys = endpoint.signing_secrets(now())
    headers = signed_headers(keys, body, event=delivery.event_name, delivery_id=str(delivery.pk))
    headers["User-Agent"] = USER_AGENT
    timeout = float(settings.PIVOTDESK_WEBHOOK_TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        with (
            egress.guarded_client(timeout=timeout, follow_redirects=False, verify=_ssl_context()) as client,
            client.stream("POST", endpoint.url, content=body, headers=headers) as response,
        ):
            excerpt = bytearray()
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            code = response.status_code
    except httpx.TimeoutException as exc:
        error = encode(DeliveryErrorCode.TIMEOUT, type(exc).__name__, seconds=f"{timeout:g}")
        return _Outcome(False, None, error, "", _ms(started))
    except httpx.HTTPError as exc:
        return _Outcome(False, None, from_exception(exc).encode(), "", _ms(started))
    text = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", errors="replace")
    ok = 200 <= code < 300
    return _Outcome(ok, code, "" if ok else encode(DeliveryErrorCode.HTTP_STATUS, status=code), text, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def webhook_deliver(*, delivery_id: int, actor: Actor) -> WebhookDelivery | None:
    """Send one attempt of a delivery if it is open and due; record the outcome. Returns None when there was nothing
    to do (already sent or failed, being sent by someone else, or not due yet) or when this attempt's claim ran out
    before it could record its outcome (the attempt that replaced it records its own). The system only (a task)."""
    authorize_system(actor)
    delivery = outbox.claim(
        WebhookDelivery.objects.select_related("endpoint"), pk=delivery_id, lease_seconds=_lease_seconds()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if outbox.exhausted(delivery, max_attempts=_max_attempts()):
        outcome = _Outcome(False, None, encode(DeliveryErrorCode.WORKER_STOPPED), "", 0)
        return _record(delivery, outcome, final=True)
    if not endpoint.deliverable and delivery.event_name != PING_EVENT:
        outcome = _Outcome(False, None, encode(DeliveryErrorCode.ENDPOINT_OFF, endpoint.disabled_reason), "", 0)
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
) -> WebhookDelivery | None:
    """The attempt's log row and outcome in one transaction; nothing when the claim was taken over (stale)."""
    details = {
        "last_status_code": outcome.status_code,
        "response_body_excerpt": outcome.excerpt,
        "duration_ms": outcome.duration_ms,
    }
    with transaction.atomic():
        if outcome.ok:
            recorded = outbox.mark_sent(delivery, fields=details)
        else:
            recorded = (
                outbox.mark_failed(
                    delivery,
                    reason=outcome.error,
                    max_attempts=_max_attempts(),
                    permanent=final,
                    cap_s=BACKOFF_CAP_S,
                    fields=details,
                )
                is not None
            )
        if not recorded:
            return None
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=WebhookAttempt.objects.filter(delivery=delivery).count() + 1,
            succeeded=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body_excerpt=outcome.excerpt,
            duration_ms=outcome.duration_ms,
        )
        if outcome.ok:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0)
        elif count_failure:
            _count_failure(delivery.endpoint_id, now())
    return delivery


def _count_failure(endpoint_id: int, at: dt.datetime) -> None:
    """One more failure in a row; past the threshold the endpoint is disabled with a reason."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    threshold = _disable_after()
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint_id, disabled_at__isnull=True, consecutive_failures__gte=threshold
    ).update(disabled_at=at, disabled_reason=encode(DeliveryErrorCode.ENDPOINT_DISABLED, count=threshold))
    if disabled:
        log.warning("webhook endpoint %s disabled after %s consecutive failures", endpoint_id, threshold)


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery again with a fresh attempt budget (the same event id and body, a new signature)."""
    from pivotdesk.webhooks.tasks import webhook_deliver

    _require(actor)
    with transaction.atomic():
        ids = outbox.retry_now(
            WebhookDelivery.objects.filter(workspace_id=delivery.workspace_id),
            pks=[delivery.pk],
            from_statuses=(*outbox.OPEN_STATUSES, OutboxStatus.SENT, OutboxStatus.FAILED),
            fields={"replays": F("replays") + 1},
        )
        if not ids:
            raise Conflict(
                gettext("This delivery is being sent right now; try again in a moment."),
                code=WebhookErrorCode.DELIVERY_IN_FLIGHT,
            )
        delivery_id = delivery.pk
        transaction.on_commit(lambda: webhook_deliver.delay(delivery_id))
    delivery.refresh_from_db()
    return delivery


def webhook_retry_due(*, batch_size: int = 200, max_batches: int = 10, at: dt.datetime | None = None) -> int:
    """Queue a send for every open delivery whose next attempt is due (and for sends whose lease ran out).

    The outbox's keyset scan over the (next_attempt_at, id) index; returns how many were queued. Queuing a delivery
    twice is harmless: only one task wins the claim.
    """
    from pivotdesk.webhooks.tasks import webhook_deliver

    queued = 0
    for delivery_id in outbox.scan_due(WebhookDelivery, at=at, batch_size=batch_size, max_batches=max_batches):
        webhook_deliver.delay(delivery_id)
        queued += 1
    return queued
