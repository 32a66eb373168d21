"""Celery tasks of the channels app: thin, take ids, idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import InboundPayload, OutboundMessage


@shared_task(name="channels.process_inbound", ignore_result=True)
def process_inbound_task(payload_id: int) -> None:
    """Parse and deliver one stored inbound payload."""
    from pivotdesk.channels.services.inbound import inbound_process

    payload = InboundPayload.objects.select_related("workspace", "account").filter(pk=payload_id).first()
    if payload is not None:
        inbound_process(actor=Actor.system("channel"), payload=payload)


@shared_task(name="channels.inbound_retry_due", ignore_result=True)
def inbound_retry_due_task() -> int:
    """Periodic: process again the payloads that found the database locked, and those nobody finished."""
    from pivotdesk.channels.services.inbound import inbound_retry_due

    ids = inbound_retry_due(actor=Actor.system("channel"))
    for payload_id in ids:
        process_inbound_task.delay(payload_id)
    return len(ids)


@shared_task(name="channels.outbox_enqueue", ignore_result=True)
def outbox_enqueue_task(event: dict[str, Any]) -> None:
    """On message.created: queue a public agent reply for delivery through the customer's channel."""
    from pivotdesk.channels.services.outbox import outbox_enqueue
    from pivotdesk.tickets.models import Message

    message_id = event.get("payload", {}).get("message_id")
    message = Message.objects.select_related("ticket__requester").filter(pk=message_id).first()
    if message is not None:
        outbox_enqueue(actor=Actor.system("channel"), message=message)


@shared_task(name="channels.outbox_send", ignore_result=True)
def outbox_send_task(outbound_id: int) -> None:
    """Send one outbound message if it is still due (one claim wins; safe to run twice)."""
    from pivotdesk.channels.services.outbox import outbox_send

    outbound = OutboundMessage.objects.filter(pk=outbound_id).first()
    if outbound is not None:
        outbox_send(actor=Actor.system("channel"), outbound=outbound)


@shared_task(name="channels.outbox_retry_due", ignore_result=True)
def outbox_retry_due_task() -> int:
    """Periodic: send every queued message whose next attempt is due, and every send whose lease ran out."""
    from pivotdesk.channels.services.outbox import outbox_due

    ids = outbox_due()
    for outbound_id in ids:
        outbox_send_task.delay(outbound_id)
    return len(ids)


@shared_task(name="channels.poll_mailboxes", ignore_result=True)
def poll_mailboxes_task() -> int:
    """Periodic: poll every IMAP mailbox, one task per mailbox."""
    from pivotdesk.channels.mailboxes import pollable_account_ids

    ids = pollable_account_ids()
    for account_id in ids:
        poll_mailbox_task.delay(account_id)
    return len(ids)


@shared_task(name="channels.poll_mailbox", ignore_result=True)
def poll_mailbox_task(account_id: int) -> None:
    """Fetch, store and process one mailbox's new mail (a re-run finds nothing new: the cursor and Message-IDs)."""
    from pivotdesk.channels.mailboxes import mailbox_poll
    from pivotdesk.channels.models import ChannelAccount

    account = ChannelAccount.objects.select_related("workspace").filter(pk=account_id, active=True).first()
    if account is not None:
        mailbox_poll(account=account)


@shared_task(name="channels.prune_rejected", ignore_result=True)
def prune_rejected_task() -> int:
    """Periodic: delete rejected webhook calls older than PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS."""
    from pivotdesk.channels.services.rejections import inbound_rejected_prune

    return inbound_rejected_prune(actor=Actor.system("channel"))
