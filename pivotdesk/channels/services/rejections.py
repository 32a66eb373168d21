"""Rejected webhook calls (bad or missing signature): kept as failed rows with the reason, never processed."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.webhooks import json_error, request_meta
from pivotdesk.common.time import now

# An unauthenticated caller who learnt a webhook URL must not be able to fill the database: a rejected body is kept
# only up to this size (enough to see what a misconfigured sender posts), with its full length in the meta.
REJECTED_KEEP_BYTES = 64 * 1024


def inbound_reject(
    *, actor: Actor, request: HttpRequest, account: ChannelAccount, reason: str, extra_headers: tuple[str, ...] = ()
) -> InboundPayload:
    """Store a webhook call that failed authentication as a failed payload with its reason (not queued).
    System only (the channel webhooks)."""
    authorize_system(actor)
    body = request.body
    meta = request_meta(request, extra_headers=extra_headers)
    meta["rejected"] = True
    meta["body_length"] = len(body)
    payload = inbound_store(
        actor=actor,
        workspace=account.workspace,
        channel=account.kind,
        raw=body[:REJECTED_KEEP_BYTES],
        content_type=request.content_type or "",
        meta=meta,
        account=account,
    )
    payload.status, payload.reason, payload.processed_at = InboundStatus.FAILED, reason[:4000], now()
    InboundPayload.objects.filter(pk=payload.pk).update(
        status=payload.status, reason=payload.reason, processed_at=payload.processed_at
    )
    return payload


def signature_rejection(
    *,
    actor: Actor,
    request: HttpRequest,
    account: ChannelAccount,
    header: str,
    verify: Callable[[str], bool],
    key_label: str,
) -> HttpResponse | None:
    """Check a signature header: None when `verify(header value)` holds; otherwise the call is kept as a rejected
    row and the answer is 401 (header missing) or 403 (does not match). System only (the channel webhooks)."""
    authorize_system(actor)
    value = request.headers.get(header)
    if not value:
        inbound_reject(actor=actor, request=request, account=account, reason=f"Rejected: no {header} header.")
        return json_error(401, "signature_missing", f"{header} is required.")
    if not verify(value):
        inbound_reject(
            actor=actor,
            request=request,
            account=account,
            reason=f"Rejected: {header} does not match the {key_label}.",
            extra_headers=(header,),
        )
        return json_error(403, "signature_invalid", f"{header} does not match.")
    return None
