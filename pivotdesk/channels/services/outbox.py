"""Outbound: replies go through the one outbox (`pivotdesk.common.outbox`) — claimed with a lease, retried with the
shared back-off, failed with a reason — and each message shows its delivery status.

A worker that dies mid-send leaves the row `sending` until its lease (PIVOTDESK_OUTBOX_LEASE_SECONDS) runs out; the
retry scan then claims it again, so no reply is stranded.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels import adapters
from pivotdesk.channels.demo_delivery import demo_deliver, is_demo_delivery, is_demo_provider_id
from pivotdesk.channels.models import ChannelAccount, OutboundMessage
from pivotdesk.common import outbox
from pivotdesk.common.choices import Channel
from pivotdesk.common.delivery_errors import DeliveryError, DeliveryErrorCode, encode, from_exception, parse
from pivotdesk.common.outbox import OutboxStatus
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
    """A send failed; `permanent` failures are not retried; `retry_after` (seconds) is the platform's own wait.
    `code` (a `DeliveryErrorCode`) and `params` say why in words the reader's language can render; without one the
    message is kept as the technical detail of a generic "Sending failed"."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        code: str = "",
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code
        self.params = params or {}


_MAIL_CODES: dict[str, str] = {
    DeliveryErrorCode.CONNECT: DeliveryErrorCode.MAIL_CONNECT,
    DeliveryErrorCode.UNREACHABLE: DeliveryErrorCode.MAIL_CONNECT,
}


def send_error_of(exc: BaseException, *, channel: str = "") -> str:
    """A send's failure in its stored form: a code, its parameters and the raw detail (`common.delivery_errors`).
    A SendError without a code is classified by its cause (a refused connection, an SMTP answer, …)."""
    if isinstance(exc, SendError) and exc.code:
        return DeliveryError(exc.code, dict(exc.params)).encode()
    if isinstance(exc, SendError):
        cause = exc.__cause__
        code = from_exception(cause).code if cause is not None and not isinstance(cause, SendError) else ""
        error = DeliveryError(code or DeliveryErrorCode.SEND_FAILED, detail=str(exc))
    else:
        error = from_exception(exc)
    if channel == "email" and error.code in _MAIL_CODES:
        error = DeliveryError(_MAIL_CODES[error.code], dict(error.params), error.detail)
    return error.encode()


def _retrying(error: str, attempt: int) -> str:
    parsed = parse(error)
    return (parsed or DeliveryError(DeliveryErrorCode.SEND_FAILED, detail=error)).retrying(attempt).encode()


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


def outbox_enqueue(*, actor: Actor, message: Message) -> OutboundMessage | None:
    """Queue a public agent or bot reply for delivery through the channel the customer used (idempotent).
    System only (the task reacting to a new reply)."""
    authorize_system(actor)
    if message.kind != MessageKind.PUBLIC or message.author_type not in (AuthorType.AGENT, AuthorType.BOT):
        return None
    existing = OutboundMessage.objects.filter(message=message).first()
    if existing is not None:
        return existing
    channel = REPLY_CHANNEL.get(Channel(message.ticket.channel)) or _generic_webhook_reply(message)
    if channel is None or adapters.sender_for(channel) is None:
        return None
    account = _account_for(message.workspace_id, channel, message)
    recipient = _recipient(message, channel)
    if not recipient and is_demo_delivery(account):
        # The demo sink needs no platform identity; it records which customer the reply was for.
        recipient = f"contact:{message.ticket.requester_id}"
    if not recipient:
        ticket_services.message_set_delivery_status(
            message=message,
            actor=_OUTBOX,
            status="failed",
            error=encode(DeliveryErrorCode.NO_IDENTITY, channel=channel),
        )
        return None
    with transaction.atomic():
        outbound, created = OutboundMessage.objects.get_or_create(
            message=message,
            defaults={
                "workspace_id": message.workspace_id,
                "channel": channel,
                "recipient": recipient,
                "account": account,
                "next_attempt_at": now(),
            },
        )
        if created:
            ticket_services.message_set_delivery_status(message=message, actor=_OUTBOX, status="queued")
            from pivotdesk.channels.tasks import outbox_send_task

            transaction.on_commit(lambda: outbox_send_task.delay(outbound.pk))
    return outbound


_OUTBOX = Actor.system("outbox")  # who records a reply's delivery status on its message


def _max_attempts() -> int:
    return max(1, int(settings.PIVOTDESK_OUTBOX_MAX_ATTEMPTS))


def _lease_seconds() -> float:
    """How long one claim holds a message: longer than any sender's own timeout."""
    return float(getattr(settings, "PIVOTDESK_OUTBOX_LEASE_SECONDS", 300.0))


def outbox_send(*, actor: Actor, outbound: OutboundMessage) -> OutboundMessage:
    """Try to send one outbound message if it is due (or its last send's lease ran out). Claimed by the outbox's
    conditional UPDATE, so two workers never both send it; returns the row as it stands afterwards. System only."""
    authorize_system(actor)
    claimed = outbox.claim(OutboundMessage, pk=outbound.pk, lease_seconds=_lease_seconds())
    if claimed is None:
        outbound.refresh_from_db()
        return outbound
    outbound = claimed
    message = Message.objects.select_related("ticket__requester").get(pk=outbound.message_id)
    if outbox.exhausted(outbound, max_attempts=_max_attempts()):
        return _failed(outbound, message, encode(DeliveryErrorCode.WORKER_STOPPED), permanent=True)
    sender = adapters.sender_for(outbound.channel)
    if is_demo_delivery(outbound.account):
        sender = _demo_sender
    try:
        if sender is None:
            raise SendError(
                f"No sender for channel '{outbound.channel}'.",
                permanent=True,
                code=DeliveryErrorCode.NO_SENDER,
                params={"channel": outbound.channel},
            )
        provider_id = sender(outbound, outbound.account)
    except Exception as exc:  # any failure is a visible status with its reason
        permanent = isinstance(exc, SendError) and exc.permanent
        retry_after = exc.retry_after if isinstance(exc, SendError) else None
        return _failed(
            outbound,
            message,
            send_error_of(exc, channel=outbound.channel),
            permanent=permanent,
            retry_after=retry_after,
        )
    if not outbox.mark_sent(outbound, fields={"provider_id": (provider_id or "")[:255]}):
        log.warning("outbound %s: sent after its lease ran out; the attempt that took over records it", outbound.pk)
        outbound.refresh_from_db()
        return outbound
    ticket_services.message_set_delivery_status(message=message, actor=_OUTBOX, status="sent")
    if provider_id and (outbound.channel == "email" or is_demo_provider_id(provider_id)):
        # a demo send is recorded as such on the message: its delivery status says nothing was sent
        ticket_services.message_set_external_id(message=message, actor=_OUTBOX, external_id=provider_id)
    return outbound


def _demo_sender(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """The send of an account in demo delivery: written to the local sink, nothing leaves the machine."""
    return demo_deliver(outbound)


def _failed(
    outbound: OutboundMessage, message: Message, error: str, *, permanent: bool, retry_after: float | None = None
) -> OutboundMessage:
    status = outbox.mark_failed(
        outbound, reason=error[:2000], max_attempts=_max_attempts(), permanent=permanent, retry_after=retry_after
    )
    if status is None:  # the lease ran out and another attempt took over: it records the outcome
        outbound.refresh_from_db()
        return outbound
    give_up = status != OutboxStatus.QUEUED
    reason = error if give_up else _retrying(error, outbound.attempts)
    ticket_services.message_set_delivery_status(
        message=message, actor=_OUTBOX, status="failed" if give_up else "queued", error=reason
    )
    log.warning("outbound %s failed: %s", outbound.pk, error)
    return outbound


def outbox_retry(*, actor: Actor, outbound: OutboundMessage) -> OutboundMessage:
    """Send a failed message again now, with a fresh attempt budget (agent's "retry" button): sending a public
    reply again needs TICKET_REPLY_PUBLIC; the send itself is the outbox's."""
    authorize(actor, Perm.TICKET_REPLY_PUBLIC, workspace_id=outbound.workspace_id)
    outbox.retry_now(OutboundMessage, pks=[outbound.pk])
    return outbox_send(actor=_OUTBOX, outbound=outbound)


def outbox_due(*, batch_size: int = 200, max_batches: int = 10) -> list[int]:
    """Ids of messages whose next attempt is due, or whose send's lease ran out (the outbox's keyset scan)."""
    return list(outbox.scan_due(OutboundMessage, batch_size=batch_size, max_batches=max_batches))
