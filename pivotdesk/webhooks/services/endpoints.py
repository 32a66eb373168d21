"""Configuring webhook endpoints: create, change, delete, rotate the secret, send a test ping."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common import events as domain_events
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.webhooks.errors import WebhookErrorCode
from pivotdesk.webhooks.models import PING_EVENT, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - a visible marker, not a secret
DEFAULT_SECRET_GRACE_HOURS = 24.0
MAX_URL_LENGTH = 2000
UPDATABLE = frozenset({"url", "description", "event_types", "active"})


def _require(actor: Actor) -> None:
    authorize(actor, Perm.WEBHOOK_MANAGE)


def new_secret() -> str:
    """A fresh signing secret (shown to the workspace's admins, who configure their receiver with it)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def clean_url(url: str) -> str:
    """An absolute http(s) URL with a host, else ValidationFailed."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(
            gettext("The URL is empty or too long."),
            details={"url": f"1..{MAX_URL_LENGTH} characters"},
        )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationFailed(gettext("The URL is not valid."), details={"url": str(exc)}) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationFailed(
            gettext("Only http and https URLs are allowed."),
            details={"url": "scheme must be http(s)"},
        )
    if not parts.hostname:
        raise ValidationFailed(gettext("The URL has no host."), details={"url": "missing host"})
    if any(c.isspace() for c in url):
        raise ValidationFailed(gettext("The URL contains spaces."), details={"url": "no whitespace"})
    return url


def clean_event_types(event_types: list[str] | None) -> list[str]:
    """Known event names, without duplicates, in the given order (empty: every event)."""
    out: list[str] = []
    for name in event_types or []:
        known = domain_events.event_types()
        if name not in known:
            raise ValidationFailed(
                gettext("Unknown event type '%(name)s'.") % {"name": name},
                code=WebhookErrorCode.UNKNOWN_EVENT_TYPE,
                details={"event_types": list(known)},
            )
        if name not in out:
            out.append(name)
    return out


def webhook_endpoint_create(
    *,
    workspace: Workspace,
    url: str,
    actor: Actor,
    description: str = "",
    event_types: list[str] | None = None,
    active: bool = True,
) -> WebhookEndpoint:
    """Register a URL to receive signed event deliveries; a secret is generated for it, stored encrypted, and set in
    clear on the returned instance only (`issued_secret`: the one answer that shows it)."""
    _require(actor)
    endpoint = WebhookEndpoint(
        workspace=workspace,
        url=clean_url(url),
        description=(description or "").strip()[:255],
        event_types=clean_event_types(event_types),
        active=active,
        created_by=actor.agent if actor.agent is not None and actor.agent.workspace_id == workspace.pk else None,
    )
    secret = new_secret()
    endpoint.store_secret(secret)
    endpoint.save()
    endpoint.issued_secret = secret
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, actor: Actor, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint's URL, description, event types or active flag. Turning it on again clears an automatic
    disablement and the failure counter."""
    _require(actor)
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            gettext("Cannot change: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            code=WebhookErrorCode.NOT_UPDATABLE,
            details={"allowed": sorted(UPDATABLE)},
        )
    fields: set[str] = set()
    if "url" in changes:
        endpoint.url = clean_url(changes["url"])
        fields.add("url")
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip()[:255]
        fields.add("description")
    if "event_types" in changes:
        endpoint.event_types = clean_event_types(changes["event_types"])
        fields.add("event_types")
    if "active" in changes:
        endpoint.active = bool(changes["active"])
        fields.add("active")
        if endpoint.active:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.consecutive_failures = 0
            fields |= {"disabled_at", "disabled_reason", "consecutive_failures"}
    if fields:
        endpoint.save(update_fields=[*sorted(fields), "updated_at"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Remove an endpoint and its delivery history."""
    _require(actor)
    endpoint.delete()


def secret_grace() -> dt.timedelta:
    """How long a replaced secret still signs deliveries (PIVOTDESK_WEBHOOK_SECRET_GRACE_HOURS, default 24 h)."""
    hours = getattr(settings, "PIVOTDESK_WEBHOOK_SECRET_GRACE_HOURS", DEFAULT_SECRET_GRACE_HOURS)
    return dt.timedelta(hours=float(hours))


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookEndpoint:
    """Replace the signing secret. Deliveries are signed with the new one and, for the grace period, with the one it
    replaced as well (a second `v1=` in the same header), so the receiver can switch without losing events; rotating
    again within the grace period drops the oldest. The new secret is set in clear on the returned instance only."""
    _require(actor)
    at = now()
    grace = secret_grace()
    current = endpoint.signing_secret
    secret = new_secret()
    keep_previous = bool(current) and grace > dt.timedelta(0)
    endpoint.store_secret(secret, previous=current if keep_previous else None)
    endpoint.secret_rotated_at = at
    endpoint.previous_secret_expires_at = at + grace if keep_previous else None
    endpoint.save(
        update_fields=["secret_config", "secret_hint", "secret_rotated_at", "previous_secret_expires_at", "updated_at"]
    )
    endpoint.issued_secret = secret
    return endpoint


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Queue a `webhook.ping` delivery to this endpoint (sent even when it is off, to test it before enabling)."""
    from pivotdesk.webhooks.tasks import webhook_deliver

    _require(actor)
    at = now()
    event_id = uuid.uuid4()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            workspace_id=endpoint.workspace_id,
            endpoint=endpoint,
            event_name=PING_EVENT,
            event_id=event_id,
            payload={
                "id": str(event_id),
                "type": PING_EVENT,
                "created_at": at.isoformat(),
                "workspace_id": endpoint.workspace_id,
                "data": {"endpoint_id": endpoint.pk, "message": "PivotDesk test event", "sent_by": actor.display},
            },
            next_attempt_at=at,
        )
        delivery_id = delivery.pk
        transaction.on_commit(lambda: webhook_deliver.delay(delivery_id))
    delivery.refresh_from_db()
    return delivery
