"""Reads of outgoing webhooks: always scoped to the workspace (other workspaces' rows look the same as missing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.webhooks.models import OPEN_STATUSES, DeliveryStatus, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, workspace: Workspace) -> QuerySet[WebhookEndpoint]:
    """The workspace's endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(workspace=workspace).order_by("created_at", "pk")


def deliverable_endpoints(*, workspace_id: int) -> QuerySet[WebhookEndpoint]:
    """Endpoints that receive events: turned on and not disabled after failures."""
    return WebhookEndpoint.objects.filter(workspace_id=workspace_id, active=True, disabled_at__isnull=True)


def access_endpoint(*, workspace: Workspace, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint of this workspace by id, else NotFound."""
    endpoint = WebhookEndpoint.objects.filter(workspace=workspace, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, optionally of one status."""
    qs = WebhookDelivery.objects.filter(workspace_id=endpoint.workspace_id, endpoint=endpoint)
    if status:
        if status not in DeliveryStatus.values:
            raise ValidationFailed(f"Unknown status '{status}'.", details={"status": DeliveryStatus.values})
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def access_delivery(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """A delivery of this endpoint by id, else NotFound."""
    delivery = (
        WebhookDelivery.objects.filter(workspace_id=endpoint.workspace_id, endpoint=endpoint, pk=delivery_id)
        .select_related("endpoint")
        .first()
    )
    if delivery is None:
        raise NotFound("Webhook delivery not found.")
    return delivery


def due_deliveries(
    *, at: dt.datetime, limit: int, after: tuple[dt.datetime, int] | None = None
) -> list[tuple[int, dt.datetime]]:
    """(id, next_attempt_at) of open deliveries due by `at`, in due order, after a keyset position.

    A range over the `next_attempt_at` index: closed deliveries hold NULL there, so they are never scanned.
    """
    qs = WebhookDelivery.objects.filter(next_attempt_at__lte=at, status__in=OPEN_STATUSES)
    if after is not None:
        due, pk = after
        qs = qs.filter(Q(next_attempt_at__gt=due) | Q(next_attempt_at=due, pk__gt=pk))
    rows = qs.order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:limit]
    return [(pk, due) for pk, due in rows if due is not None]


def event_has_endpoints(event: dict[str, Any]) -> bool:
    """Whether any active endpoint of the event's workspace could want it (checked before queueing fan-out)."""
    return deliverable_endpoints(workspace_id=int(event["workspace_id"])).exists()
