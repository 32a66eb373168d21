"""REST endpoints of outgoing webhooks, mounted at /api/v1/webhooks/.

Everything here is configuration: callers need the admin role (Perm.WEBHOOK_MANAGE) and, with a token, the admin
scope. Endpoints of other workspaces are 404. A signing secret is in clear only in the answer that creates the
endpoint and the one that rotates its secret; every other answer has `secret_set` and `secret_hint`.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from pivotdesk.accounts.api_auth import ApiContext, context, require_admin_scope
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.accounts.schemas import Limit, Offset
from pivotdesk.common.pagination import paginate
from pivotdesk.webhooks import selectors, services
from pivotdesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from pivotdesk.webhooks.schemas import (
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointOut,
    EndpointPage,
    EndpointPatch,
    EndpointWithSecretOut,
)

router = Router(tags=["webhooks"])


class DeliveryFilters(Schema):
    status: str | None = None
    limit: Limit = 50
    offset: Offset = 0


def _admin(request: HttpRequest) -> ApiContext:
    ctx = context(request)
    require_admin_scope(ctx)
    require(ctx.agent, Perm.WEBHOOK_MANAGE)
    return ctx


@router.get("/", response=EndpointPage, summary="List webhook endpoints")
def list_endpoints(request: HttpRequest) -> dict[str, object]:
    ctx = _admin(request)
    items = list(selectors.endpoint_list(workspace=ctx.workspace))
    return {"items": items, "count": len(items)}


@router.post(
    "/",
    response={201: EndpointWithSecretOut},
    summary="Register a webhook endpoint",
    description="The answer carries the signing secret (`secret`), the only time it is shown apart from a rotation.",
)
def create_endpoint(request: HttpRequest, data: EndpointIn) -> Status[WebhookEndpoint]:
    ctx = _admin(request)
    endpoint = services.webhook_endpoint_create(
        workspace=ctx.workspace,
        url=data.url,
        actor=ctx.actor,
        description=data.description,
        event_types=data.event_types,
        active=data.active,
    )
    return Status(201, endpoint)


@router.get("/{endpoint_id}", response=EndpointOut, summary="Get a webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    ctx = _admin(request)
    return selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)


@router.patch("/{endpoint_id}", response=EndpointOut, summary="Change a webhook endpoint")
def update_endpoint(request: HttpRequest, endpoint_id: int, data: EndpointPatch) -> WebhookEndpoint:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    changes = data.model_dump(exclude_unset=True)
    return services.webhook_endpoint_update(endpoint=endpoint, actor=ctx.actor, changes=changes)


@router.delete("/{endpoint_id}", response={204: None}, summary="Delete a webhook endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Status[None]:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=ctx.actor)
    return Status(204, None)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response=EndpointWithSecretOut,
    summary="Replace the signing secret",
    description=(
        "Generates a new secret and returns it once (`secret`). For the grace period "
        "(`previous_secret_expires_at`, 24 h by default) every delivery is signed with both secrets: the "
        "`X-PivotDesk-Signature` header keeps its format and carries two `v1=` values, "
        "`t=<unix seconds>,v1=<new>,v1=<previous>`; a receiver accepts the request when any `v1=` matches, so it "
        "can switch to the new secret without losing events. After the grace period only the new one signs."
    ),
)
def rotate_secret(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    return services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=ctx.actor)


@router.post("/{endpoint_id}/ping", response={202: DeliveryOut}, summary="Send a test event")
def ping_endpoint(request: HttpRequest, endpoint_id: int) -> Status[WebhookDelivery]:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    return Status(202, services.webhook_endpoint_ping(endpoint=endpoint, actor=ctx.actor))


@router.get("/{endpoint_id}/deliveries", response=DeliveryPage, summary="List an endpoint's deliveries")
def list_deliveries(request: HttpRequest, endpoint_id: int, filters: Query[DeliveryFilters]) -> dict[str, object]:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    page = paginate(
        selectors.delivery_list(endpoint=endpoint, status=filters.status), limit=filters.limit, offset=filters.offset
    )
    return page.body()


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}", response=DeliveryDetailOut, summary="Get a delivery and its attempts"
)
def get_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    return selectors.access_delivery(endpoint=endpoint, delivery_id=delivery_id)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/replay", response={202: DeliveryOut}, summary="Send a delivery again"
)
def replay_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int) -> Status[WebhookDelivery]:
    ctx = _admin(request)
    endpoint = selectors.access_endpoint(workspace=ctx.workspace, endpoint_id=endpoint_id)
    delivery = selectors.access_delivery(endpoint=endpoint, delivery_id=delivery_id)
    return Status(202, services.webhook_delivery_replay(delivery=delivery, actor=ctx.actor))
