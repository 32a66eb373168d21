"""Inbound: store every raw payload first, then parse it, thread it onto a ticket or open one — idempotently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels import adapters, selectors
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import DomainError
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Status, Ticket

log = logging.getLogger(__name__)
INTAKE = Actor.system("channel")  # the channel machinery: stores, parses and delivers what customers send


class RateLimitedSender(DomainError):
    code = "sender_rate_limited"


def inbound_store(
    *,
    actor: Actor,
    workspace: Workspace,
    channel: str,
    raw: bytes,
    content_type: str = "",
    meta: dict[str, Any] | None = None,
    account: ChannelAccount | None = None,
    dedupe_key: str = "",
) -> InboundPayload:
    """Store a raw payload exactly as received, before any parsing. Always succeeds for any bytes.

    The raw bytes are kept whole; the text columns beside them (headers and query in `meta`, the content type, the
    dedupe key) lose NUL characters, which PostgreSQL text and jsonb cannot hold. Only the system stores
    (webhooks, pollers, the public forms)."""
    authorize_system(actor)
    return InboundPayload.objects.create(
        workspace=workspace,
        account=account,
        channel=channel,
        raw=raw,
        content_type=without_nul(content_type)[:120],
        meta=without_nul(meta or {}),
        received_at=now(),
        dedupe_key=without_nul(dedupe_key)[:300],
    )


def inbound_process(*, actor: Actor, payload: InboundPayload) -> InboundPayload:
    """Parse a stored payload and deliver each message it holds. Safe to run twice: a processed, ignored or
    duplicate payload is left alone; a failure is recorded with its reason and can be re-processed. The system
    processes; an admin (CHANNEL_CONFIGURE) may re-process, and the delivery is then done by the intake."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=payload.workspace_id)
    if payload.status in (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.DUPLICATE):
        return payload
    parser = adapters.parser_for(payload.channel)
    InboundPayload.objects.filter(pk=payload.pk).update(attempts=payload.attempts + 1)
    payload.attempts += 1
    if parser is None:
        return _finish(payload, InboundStatus.FAILED, f"No parser for channel '{payload.channel}'.")
    try:
        messages = parser(payload)
    except PayloadError as exc:
        return _finish(payload, InboundStatus.FAILED, f"Unreadable payload: {exc}")
    except Exception as exc:  # a parser bug must leave a visible row, never lose the payload
        log.exception("parser for %s failed on payload %s", payload.channel, payload.pk)
        return _finish(payload, InboundStatus.FAILED, f"Parser error: {type(exc).__name__}: {exc}")
    if not messages:
        return _finish(payload, InboundStatus.IGNORED, "No customer message in the payload (status update, echo…).")
    status, reason = InboundStatus.PROCESSED, ""
    for inbound in messages:
        if inbound.noise:
            status, reason = InboundStatus.IGNORED, f"Not opened: {inbound.noise.replace('_', ' ')}."
            payload.classification = inbound.noise
            continue
        try:
            with transaction.atomic():
                message, duplicate = inbound_deliver(
                    actor=INTAKE, workspace=payload.workspace, inbound=inbound, account=payload.account
                )
        except DomainError as exc:
            return _finish(payload, InboundStatus.FAILED, exc.message)
        except Exception as exc:
            log.exception("delivering payload %s failed", payload.pk)
            return _finish(payload, InboundStatus.FAILED, f"{type(exc).__name__}: {exc}")
        payload.ticket_id, payload.message_id = message.ticket_id, message.pk
        if duplicate and len(messages) == 1:
            status, reason = InboundStatus.DUPLICATE, f"Already received as message #{message.pk}."
    return _finish(payload, status, reason)


def _finish(payload: InboundPayload, status: str, reason: str) -> InboundPayload:
    payload.status, payload.reason, payload.processed_at = status, without_nul(reason)[:4000], now()
    InboundPayload.objects.filter(pk=payload.pk).update(
        status=status,
        reason=payload.reason,
        processed_at=payload.processed_at,
        ticket_id=payload.ticket_id,
        message_id=payload.message_id,
        classification=payload.classification,
    )
    return payload


def _own_addresses(workspace: Workspace) -> set[str]:
    return {
        str(a.config.get("address", "")).lower()
        for a in ChannelAccount.objects.filter(workspace=workspace, kind="email")
        if a.config.get("address")
    }


def _find_ticket(workspace: Workspace, inbound: NormalizedInbound, contact: Contact) -> Ticket | None:
    """Threading, in order: [#number] token; In-Reply-To/References; conversation (same sender and normalised
    subject for mail, same chat within the window for messaging)."""
    if inbound.ticket_number is not None:
        ticket = selectors.ticket_by_number(workspace=workspace, number=inbound.ticket_number)
        if ticket is not None:
            return ticket
    ticket = selectors.ticket_by_message_ids(workspace=workspace, ids=inbound.reply_to_ids)
    if ticket is not None:
        return ticket
    if inbound.channel == Channel.EMAIL:
        if not inbound.conversation_key:
            return None
        since = now() - dt.timedelta(hours=settings.PIVOTDESK_EMAIL_THREAD_WINDOW_HOURS)
        return selectors.recent_ticket_for(
            workspace=workspace,
            contact=contact,
            channel=inbound.channel,
            since=since,
            subject_key=inbound.conversation_key,
        )
    if inbound.channel in (Channel.WEB_FORM, Channel.CHAT):
        # A form submission is a new request; a chat session names its ticket itself (ticket_number).
        return None
    since = now() - dt.timedelta(hours=settings.PIVOTDESK_MESSAGING_THREAD_WINDOW_HOURS)
    ticket = selectors.recent_ticket_for(workspace=workspace, contact=contact, channel=inbound.channel, since=since)
    return ticket


def _bodies(inbound: NormalizedInbound) -> tuple[str, str]:
    """(text, html) to store. Mail HTML is kept when nothing was stripped from it; when quoted history was cut,
    the stripped text is shown and the full original stays in metadata (one click away)."""
    if not inbound.html:
        return inbound.text, ""
    if not inbound.text or inbound.text.strip() == inbound.full_text.strip():
        return inbound.text, inbound.html
    return inbound.text, ""


def _storable(inbound: NormalizedInbound) -> NormalizedInbound:
    """The message with NUL characters removed from its text fields (names, ids, bodies, metadata), which
    PostgreSQL cannot store or even compare; attachments stay as they came."""
    changes = {
        f.name: without_nul(getattr(inbound, f.name))
        for f in dataclasses.fields(inbound)
        if isinstance(getattr(inbound, f.name), str | dict) or f.name in ("reply_to_ids", "followers")
    }
    return dataclasses.replace(inbound, **changes)


def inbound_deliver(
    *, actor: Actor, workspace: Workspace, inbound: NormalizedInbound, account: ChannelAccount | None = None
) -> tuple[Message, bool]:
    """Turn one normalised message into a ticket message: resolve the contact, thread it, store it.
    Returns (message, was_duplicate). The same external id twice gives the same message. System only."""
    authorize_system(actor)
    inbound = _storable(inbound)
    if inbound.external_id:
        existing = Message.objects.filter(
            workspace=workspace, channel=inbound.channel, external_id=inbound.external_id
        ).first()
        if existing is not None:
            return existing, True
    contact = customer_services.contact_resolve(
        actor=Actor.system("channel"),
        workspace=workspace,
        kind=inbound.identity_kind,
        value=inbound.identity_value,
        name=inbound.sender_name,
    )
    actor = Actor.for_contact(contact.pk, contact.display_name)
    ticket = _find_ticket(workspace, inbound, contact)
    attachments = [(a.filename, a.content, a.content_type) for a in inbound.attachments if not a.inline]
    metadata = {**inbound.metadata, "channel_account_id": account.pk if account else None}
    if inbound.full_text and inbound.full_text.strip() != inbound.text.strip():
        metadata["full_text"] = inbound.full_text[:200_000]
    if inbound.needs_transcription:
        metadata["transcription"] = "queued"
    if inbound.conversation_key and inbound.channel != Channel.EMAIL:
        metadata["conversation_key"] = inbound.conversation_key
    followup_of = None
    if ticket is not None and ticket.status == Status.CLOSED:
        followup_of, ticket = ticket, None
    try:
        if ticket is None:
            message = _open_ticket(
                workspace=workspace,
                inbound=inbound,
                contact=contact,
                actor=actor,
                attachments=attachments,
                metadata=metadata,
            )
            ticket = message.ticket
            if followup_of is not None:
                ticket_services.ticket_link(source=ticket, target=followup_of, kind="related", actor=actor)
        else:
            text, html = _bodies(inbound)
            message = ticket_services.message_create(
                ticket=ticket,
                actor=actor,
                body=text,
                body_html=html,
                as_customer=True,
                channel=inbound.channel,
                external_id=inbound.external_id,
                metadata=metadata,
                attachments=attachments,
                author_contact=contact,
                created_at=None,
            )
    except IntegrityError:  # a concurrent delivery of the same external id won the race
        existing = Message.objects.filter(
            workspace=workspace, channel=inbound.channel, external_id=inbound.external_id
        ).first()
        if existing is None:
            raise
        return existing, True
    _store_inline(message, inbound, actor)
    _add_followers(workspace, message.ticket, inbound, actor)
    return message, False


def _open_ticket(
    *,
    workspace: Workspace,
    inbound: NormalizedInbound,
    contact: Contact,
    actor: Actor,
    attachments: list[tuple[str, bytes, str]],
    metadata: dict[str, Any],
) -> Message:
    limit = settings.PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR
    if selectors.tickets_opened_by(workspace=workspace, contact=contact, since=now() - dt.timedelta(hours=1)) >= limit:
        raise RateLimitedSender(
            gettext("%(sender)s opened more than %(limit)s tickets in the last hour.")
            % {"sender": inbound.identity_value, "limit": limit},
            code=ChannelErrorCode.SENDER_RATE_LIMITED,
        )
    body = inbound.text or ("" if inbound.html else "(no text)")
    ticket = ticket_services.ticket_create(
        workspace=workspace,
        requester=contact,
        subject=inbound.subject,
        body=body,
        body_html=_bodies(inbound)[1],
        actor=actor,
        channel=inbound.channel,
        message_external_id=inbound.external_id,
        message_metadata=metadata,
        tags=[str(t) for t in inbound.metadata.get("tags", [])],
    )
    message = Message.objects.filter(ticket=ticket).order_by("pk").first()
    if message is None:  # pragma: no cover - ticket_create always writes the first message when there is a body
        raise RuntimeError("ticket_create wrote no first message")
    for filename, content, content_type in attachments:
        ticket_services.attachment_add(
            ticket=ticket, actor=actor, message=message, filename=filename, content=content, content_type=content_type
        )
    return message


def _store_inline(message: Message, inbound: NormalizedInbound, actor: Actor) -> None:
    """Inline images are stored with their Content-ID and the message HTML points at them."""
    html = message.body_html
    changed = False
    for att in inbound.attachments:
        if not att.inline:
            continue
        stored = ticket_services.attachment_add(
            ticket=message.ticket,
            actor=actor,
            message=message,
            filename=att.filename,
            content=att.content,
            content_type=att.content_type,
            inline=True,
            content_id=att.content_id,
        )
        if att.content_id and f"cid:{att.content_id}" in html:
            html = html.replace(f"cid:{att.content_id}", stored.file.url)
            changed = True
    if changed:
        Message.objects.filter(pk=message.pk).update(body_html=html)


def _add_followers(workspace: Workspace, ticket: Ticket, inbound: NormalizedInbound, actor: Actor) -> None:
    if not inbound.followers:
        return
    own = _own_addresses(workspace)
    addresses = [a for a in dict.fromkeys(x.lower() for x in inbound.followers) if a not in own]
    agents = {
        p.user.email.lower(): p
        for p in AgentProfile.objects.filter(workspace=workspace, user__email__in=addresses).select_related("user")
    }
    contacts = []
    for address in addresses[:20]:
        if address in agents:
            continue
        try:
            contacts.append(
                customer_services.contact_resolve(
                    actor=Actor.system("channel"), workspace=workspace, kind="email", value=address
                )
            )
        except DomainError:
            continue
    if contacts:
        ticket_services.ticket_add_cc(ticket=ticket, contacts=contacts, actor=actor)
    if agents:
        current = list(ticket.followers.values_list("pk", flat=True))
        wanted = current + [a.pk for a in agents.values() if a.pk not in current]
        ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"followers": wanted})
