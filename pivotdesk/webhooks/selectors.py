"""Reads of outgoing webhooks: always scoped to the workspace (other workspaces' rows look the same as missing)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.webhooks.models import WebhookDelivery, WebhookEndpoint


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
        raise NotFound(gettext("Webhook endpoint not found."))
    return endpoint


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, optionally of one status."""
    qs = WebhookDelivery.objects.filter(workspace_id=endpoint.workspace_id, endpoint=endpoint)
    if status:
        if status not in OutboxStatus.values:
            raise ValidationFailed(
                gettext("Unknown status '%(status)s'.") % {"status": status}, details={"status": OutboxStatus.values}
            )
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
        raise NotFound(gettext("Webhook delivery not found."))
    return delivery


def event_has_endpoints(event: dict[str, Any]) -> bool:
    """Whether any active endpoint of the event's workspace could want it (checked before queueing fan-out)."""
    return deliverable_endpoints(workspace_id=int(event["workspace_id"])).exists()
