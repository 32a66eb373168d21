"""Admin screen of outgoing webhooks: the endpoints with their secret's hint; adding one and rotating its secret
show the new secret once (that answer is not cached), never again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common import events as domain_events
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.webhooks import selectors, services
from pivotdesk.webhooks.models import WebhookEndpoint


def _page(
    request: HttpRequest, desk: Desk, *, issued: WebhookEndpoint | None = None, rotated: bool = False, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "endpoints": list(selectors.endpoint_list(workspace=desk.workspace)),
        "event_types": list(domain_events.event_types()),
        "issued": issued,
        "issued_secret": issued.issued_secret if issued is not None else "",
        "rotated": rotated,
        "grace_hours": f"{services.endpoints.secret_grace().total_seconds() / 3600:g}",
    }
    response = render(request, "web/webhooks/list.html", context, status=status)
    if issued is not None:
        patch_cache_control(response, no_store=True, private=True)
    return response


@agent_view
def webhook_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's webhook endpoints (secret hint only); a POST registers one and shows its secret once."""
    require(desk.agent, Perm.WEBHOOK_MANAGE)
    if request.method != "POST":
        return _page(request, desk)
    endpoint = services.webhook_endpoint_create(
        workspace=desk.workspace,
        url=request.POST.get("url", ""),
        actor=desk.actor,
        description=request.POST.get("description", ""),
        event_types=request.POST.getlist("event_types"),
    )
    return _page(request, desk, issued=endpoint, status=201)


@require_POST
@agent_view
def webhook_rotate_secret(request: HttpRequest, desk: Desk, endpoint_id: int) -> HttpResponse:
    """Replace an endpoint's secret and show the new one once (the old one still signs during the grace period)."""
    require(desk.agent, Perm.WEBHOOK_MANAGE)
    endpoint = selectors.access_endpoint(workspace=desk.workspace, endpoint_id=endpoint_id)
    endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=desk.actor)
    return _page(request, desk, issued=endpoint, rotated=True)
