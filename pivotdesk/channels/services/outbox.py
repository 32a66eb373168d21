"""Outbound: replies go through an outbox with retries and back-off; each message shows its delivery status."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction

from pivotdesk.channels import adapters
from pivotdesk.channels.domain.backoff import retry_delay_seconds
from pivotdesk.channels.models import ChannelAccount, OutboundMessage, OutboxStatus
from pivotdesk.common.choices import Channel
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import AuthorType, Message, MessageKind

log = logging.getLogger(__name__)

# Which sender answers a ticket opened on each channel. Web forms are answered by email.
REPLY_CHANNEL = {
    Channel.EMAIL: "email",
    Channel.WEB_FORM: "email",
    Channel.CHAT: "chat",
    Channel.WECHAT: "wechat",
    Channel.WECOM: "wecom",
    Channel.TELEGRAM: "telegram",
    Channel.WHATSAPP: "whatsapp",
    Channel.MESSENGER: "messenger",
    Channel.LINE: "line",
    Channel.SMS: "sms",
}
IDENTITY_FOR = {
    "email": "email",
    "wechat": "wechat",
    "wecom": "wecom",
    "telegram": "telegram",
    "whatsapp": "whatsapp",
    "messenger": "messenger",
    "line": "line",
    "sms": "phone",
    "chat": "web",
    "generic": "external",
}


class SendError(Exception):
    """A send failed; `permanent` failures are not retried; `retry_after` (seconds) is the platform's own wait."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def _generic_webhook_reply(message: Message) -> str | None:
    """API-channel tickets opened through a generic JSON webhook are answered through it (other API tickets not)."""
    if message.ticket.channel != Channel.API:
        return None
    first = Message.objects.filter(ticket_id=message.ticket_id, author_type=AuthorType.CONTACT).order_by("pk").first()
    return "generic" if first is not None and "generic" in first.metadata else None


def _account_for(workspace_id: int, channel: str, message: Message) -> ChannelAccount | None:
    account_id = None
    first = Message.objects.filter(ticket_id=message.ticket_id, author_type=AuthorType.CONTACT).order_by("pk").first()
    if first is not None:
        account_id = first.metadata.get("channel_account_id")
    qs = ChannelAccount.objects.filter(workspace_id=workspace_id, kind=channel, active=True)
    return (qs.filter(pk=account_id).first() if account_id else None) or qs.order_by("pk").first()


def _recipient(message: Message, channel: str) -> str:
    requester = message.ticket.requester
    kind = IDENTITY_FOR.get(channel, channel)
    if kind == "email" and requester.email:
        return requester.email
    identity = ChannelIdentity.objects.filter(contact=requester, kind=kind).order_by("-last_seen_at", "pk").first()
    return identity.value if identity else ""


def outbox_enqueue(*, message: Message) -> OutboundMessage | None:
    """Queue a public agent or bot reply for delivery through the channel the customer used (idempotent)."""
    if message.kind != MessageKind.PUBLIC or message.author_type not in (AuthorType.AGENT, AuthorType.BOT):
        return None
    existing = OutboundMessage.objects.filter(message=message).first()
    if existing is not None:
        return existing
    channel = REPLY_CHANNEL.get(Channel(message.ticket.channel)) or _generic_webhook_reply(message)
    if channel is None or adapters.sender_for(channel) is None:
        return None
    recipient = _recipient(message, channel)
    if not recipient:
        ticket_services.message_set_delivery_status(
            message=message, status="failed", error=f"The customer has no {channel} identity to reply to."
        )
        return None
    with transaction.atomic():
        outbound, created = OutboundMessage.objects.get_or_create(
            message=message,
            defaults={
                "workspace_id": message.workspace_id,
                "channel": channel,
                "recipient": recipient,
                "account": _account_for(message.workspace_id, channel, message),
                "next_attempt_at": now(),
            },
        )
        if created:
            ticket_services.message_set_delivery_status(message=message, status="queued")
            from pivotdesk.channels.tasks import outbox_send_task

            transaction.on_commit(lambda: outbox_send_task.delay(outbound.pk))
    return outbound


def outbox_send(*, outbound: OutboundMessage) -> OutboundMessage:
    """Try to send one outbound message. Claimed with a conditional update so two workers never both send it."""
    claimed = OutboundMessage.objects.filter(pk=outbound.pk, status=OutboxStatus.QUEUED).update(
        status=OutboxStatus.SENDING, attempts=outbound.attempts + 1
    )
    if not claimed:
        outbound.refresh_from_db()
        return outbound
    outbound.refresh_from_db()
    sender = adapters.sender_for(outbound.channel)
    message = Message.objects.select_related("ticket__requester").get(pk=outbound.message_id)
    try:
        if sender is None:
            raise SendError(f"No sender for channel '{outbound.channel}'.", permanent=True)
        provider_id = sender(outbound, outbound.account)
    except Exception as exc:  # any failure is a visible status with its reason
        permanent = isinstance(exc, SendError) and exc.permanent
        retry_after = exc.retry_after if isinstance(exc, SendError) else None
        return _failed(outbound, message, f"{type(exc).__name__}: {exc}", permanent=permanent, retry_after=retry_after)
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboxStatus.SENT, sent_at=now(), provider_id=provider_id[:255], last_error=""
    )
    ticket_services.message_set_delivery_status(message=message, status="sent")
    if provider_id and outbound.channel == "email":
        ticket_services.message_set_external_id(message=message, external_id=provider_id)
    outbound.refresh_from_db()
    return outbound


def _failed(
    outbound: OutboundMessage, message: Message, error: str, *, permanent: bool, retry_after: float | None = None
) -> OutboundMessage:
    give_up = permanent or outbound.attempts >= settings.PIVOTDESK_OUTBOX_MAX_ATTEMPTS
    delay = max(retry_delay_seconds(outbound.attempts, key=str(outbound.pk)), retry_after or 0.0)
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboxStatus.FAILED if give_up else OutboxStatus.QUEUED,
        last_error=error[:2000],
        next_attempt_at=None if give_up else now() + dt.timedelta(seconds=delay),
    )
    reason = error if give_up else f"Retrying (attempt {outbound.attempts}): {error}"
    ticket_services.message_set_delivery_status(message=message, status="failed" if give_up else "queued", error=reason)
    log.warning("outbound %s failed: %s", outbound.pk, error)
    outbound.refresh_from_db()
    return outbound


def outbox_retry(*, outbound: OutboundMessage) -> OutboundMessage:
    """Send a failed message again now (agent's "retry" button)."""
    if outbound.status == OutboxStatus.FAILED:
        OutboundMessage.objects.filter(pk=outbound.pk).update(status=OutboxStatus.QUEUED, next_attempt_at=now())
        outbound.refresh_from_db()
    return outbox_send(outbound=outbound)


def outbox_due(*, limit: int = 200) -> list[int]:
    """Ids of queued messages whose next attempt is due (indexed range query)."""
    return list(
        OutboundMessage.objects.filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
