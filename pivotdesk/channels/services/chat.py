"""The chat widget's sessions: signed visitor tokens, storing and processing visitor messages, presence."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.channels import intake_selectors
from pivotdesk.channels.models import ChannelAccount, InboundPayload
from pivotdesk.channels.services.chat_bot import chat_bot_respond
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.customers import services as customer_services

TOKEN_SALT = "pivotdesk.channels.chat.visitor"  # noqa: S105 - a signing namespace, not a secret
SEEN_WRITE_EVERY_SECONDS = 15


def visitor_token_issue(*, account: ChannelAccount) -> tuple[str, str]:
    """A new chat session: (visitor id, signed token the widget keeps in localStorage)."""
    visitor = f"v-{uuid.uuid4().hex}"
    return visitor, signing.dumps({"a": account.pk, "v": visitor}, salt=TOKEN_SALT, compress=True)


def visitor_from_token(*, account: ChannelAccount, token: str) -> str | None:
    """The visitor id a token was issued for on this chat account, or None (bad signature, other account)."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != account.pk or not isinstance(data.get("v"), str):
        return None
    return str(data["v"])


def away_after_minutes(account: ChannelAccount) -> int:
    """Minutes without a poll after which the visitor counts as gone and replies continue by email."""
    configured = (account.config or {}).get("away_after_minutes")
    if isinstance(configured, int | float) and configured > 0:
        return int(configured)
    return int(getattr(settings, "PIVOTDESK_CHAT_AWAY_MINUTES", 5))


def chat_post(
    *, actor: Actor, account: ChannelAccount, visitor: str, raw: bytes, meta: dict[str, Any]
) -> InboundPayload:
    """Store a visitor's message exactly as posted (with the verified visitor id in the meta), then process it
    at once so the widget learns the ticket it went to; the knowledge bot then answers it when it can
    (`chat_bot`). A failure stays a failed row with its reason. System only (the widget's public view)."""
    authorize_system(actor)
    payload = inbound_store(
        actor=actor,
        workspace=account.workspace,
        channel=account.kind,
        raw=raw,
        content_type="application/json",
        meta={**meta, "visitor": visitor},
        account=account,
    )
    payload = inbound_process(actor=actor, payload=payload)
    chat_bot_respond(actor=actor, payload=payload)
    return payload


def chat_seen(*, actor: Actor, account: ChannelAccount, visitor: str) -> None:
    """Record that the visitor's widget is open (it polls); written at most every few seconds per visitor. System
    only (the widget's public view)."""
    authorize_system(actor)
    throttle = f"pivotdesk:chat:seen:{visitor}"
    if not cache.add(throttle, 1, timeout=SEEN_WRITE_EVERY_SECONDS):
        return
    if intake_selectors.has_chat_identity(workspace_id=account.workspace_id, visitor=visitor):
        customer_services.contact_resolve(
            actor=Actor.system("channel"),
            workspace=account.workspace,
            kind=intake_selectors.CHAT_IDENTITY,
            value=visitor,
        )
