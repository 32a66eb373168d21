"""Adding to a ticket's conversation: replies, notes, customer messages, system messages, attachments."""

from __future__ import annotations

import hashlib
import mimetypes
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.html import html_to_text, sanitize_html, text_to_html
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import events
from pivotdesk.tickets.attachment_files import StoredFile, attachment_file_check, attachment_rows, clean_filename
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import Attachment, AuthorType, DeliveryStatus, Message, MessageKind, Status, Ticket
from pivotdesk.tickets.services.timeline import record

MAX_BODY = 1_000_000
AttachmentInput = tuple[str, bytes, str]  # (filename, content, content type or "")


def _author(actor: Actor, as_customer: bool) -> str:
    if as_customer:
        return AuthorType.CONTACT
    return {
        "agent": AuthorType.AGENT,
        "api": AuthorType.AGENT,
        "ai": AuthorType.BOT,
        "rule": AuthorType.SYSTEM,
        "contact": AuthorType.CONTACT,
    }.get(actor.kind, AuthorType.SYSTEM)


def message_create(
    *,
    ticket: Ticket,
    actor: Actor,
    body: str = "",
    body_html: str = "",
    kind: str = MessageKind.PUBLIC,
    as_customer: bool = False,
    channel: str | None = None,
    external_id: str = "",
    metadata: dict[str, Any] | None = None,
    attachments: list[AttachmentInput] | None = None,
    files: list[StoredFile] | None = None,
    status_after: str | None = None,
    author_contact: Contact | None = None,
    created_at: Any = None,
    _initial: bool = False,
) -> Message:
    """Add a message to a ticket and publish `message.created`. The same external id on the same channel gives the
    same message back (idempotent delivery). Agent replies set first response; customer messages reopen.
    `files` are already in storage (`tickets.attachment_files`): their rows are inserted with one statement."""
    # ticket_create's first message runs inside ticket_create's transaction without a savepoint of its own (two
    # statements fewer per ticket): an error there rolls the whole new ticket back anyway.
    with transaction.atomic(savepoint=not _initial):
        if kind not in MessageKind.values:
            raise ValidationFailed(
                gettext("Unknown message kind '%(kind)s'.") % {"kind": kind}, details={"kind": MessageKind.values}
            )
        body, body_html, external_id = without_nul(body), without_nul(body_html), without_nul(external_id)
        metadata = without_nul(metadata) if metadata else metadata
        channel = channel or (ticket.channel if as_customer else Channel.AGENT)
        if channel not in Channel.values:
            raise ValidationFailed(gettext("Unknown channel '%(channel)s'.") % {"channel": channel})
        if external_id:
            existing = Message.objects.filter(
                workspace_id=ticket.workspace_id, channel=channel, external_id=external_id
            )
            found = existing.first()
            if found is not None:
                if _initial:  # ticket_create counted this message in advance: it is not this ticket's
                    Ticket.objects.filter(pk=ticket.pk).update(message_count=0, last_customer_message_at=None)
                return found
        author_type = _author(actor, as_customer or actor.kind == "contact")
        authorize(
            actor,
            Perm.TICKET_REPLY_PUBLIC if kind == MessageKind.PUBLIC else Perm.TICKET_NOTE,
            workspace_id=ticket.workspace_id,
        )
        if author_type == AuthorType.CONTACT and kind != MessageKind.PUBLIC:
            raise ValidationFailed(gettext("Customers write public messages only."))
        if not (body.strip() or body_html.strip() or attachments or files):
            raise ValidationFailed(gettext("A message needs text or an attachment."))
        if len(body) > MAX_BODY or len(body_html) > MAX_BODY:
            raise ValidationFailed(gettext("A message is at most 1,000,000 characters."))
        if ticket.merged_into_id is not None:
            ticket = Ticket.objects.get(pk=ticket.merged_into_id)
        if not _initial:
            ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if ticket.status == Status.CLOSED and author_type != AuthorType.SYSTEM:
                raise Conflict(
                    gettext("This ticket is closed; open a follow-up ticket instead."),
                    code=TicketErrorCode.TICKET_CLOSED,
                )
        html = sanitize_html(body_html) if body_html.strip() else text_to_html(body)
        text = body if body.strip() else html_to_text(html)
        message = Message(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            kind=kind,
            author_type=author_type,
            author_agent=actor.agent if author_type in (AuthorType.AGENT, AuthorType.BOT) else None,
            author_contact_id=(author_contact.pk if author_contact else ticket.requester_id)
            if author_type == AuthorType.CONTACT
            else None,
            author_label="" if author_type in (AuthorType.AGENT, AuthorType.CONTACT) else actor.display,
            body_text=text,
            body_html=html,
            channel=channel,
            external_id=external_id,
            metadata=metadata or {},
        )
        message.save()
        at = created_at or message.created_at
        if created_at is not None:
            Message.objects.filter(pk=message.pk).update(created_at=created_at)
            message.created_at = created_at
        for filename, content, content_type in attachments or []:
            attachment_add(
                ticket=ticket,
                actor=actor,
                message=message,
                filename=filename,
                content=content,
                content_type=content_type,
            )
        if files:
            Attachment.objects.bulk_create(attachment_rows(ticket=ticket, message=message, files=files))
        _after_message(ticket, message, actor, at, status_after, initial=_initial)
        events.emit(
            events.MESSAGE_CREATED,
            workspace_id=ticket.workspace_id,
            ticket_id=ticket.pk,
            message_id=message.pk,
            kind=kind,
            author_type=author_type,
            channel=channel,
        )
        return message


def _after_message(
    ticket: Ticket, message: Message, actor: Actor, at: Any, status_after: str | None, *, initial: bool
) -> None:
    """Ticket bookkeeping after a message: counters, response times, reopen, status chosen by the agent."""
    from pivotdesk.tickets.services.tickets import _apply_status

    if initial:
        if message.author_type != AuthorType.CONTACT and message.kind == MessageKind.PUBLIC:
            Ticket.objects.filter(pk=ticket.pk).update(last_agent_reply_at=at)  # an agent's public first message
        return  # counted (and the customer's time set) in the ticket's INSERT by ticket_create

    updates: dict[str, Any] = {"message_count": F("message_count") + 1, "updated_at": now()}
    if message.author_type == AuthorType.CONTACT:
        updates["last_customer_message_at"] = at
        if not initial:
            record(ticket=ticket, actor=actor, verb="message_added", data={"message_id": message.pk, "kind": "public"})
            if ticket.status in (Status.PENDING, Status.SOLVED):
                _apply_status(ticket, Status.OPEN, Actor.system("customer replied"))
                updates.update(status=ticket.status, custom_status=ticket.custom_status, solved_at=ticket.solved_at)
    elif message.kind == MessageKind.PUBLIC and message.author_type in (AuthorType.AGENT, AuthorType.BOT):
        updates["last_agent_reply_at"] = at
        if ticket.first_response_at is None and not initial:
            updates["first_response_at"] = at
            ticket.first_response_at = at
        if not initial:
            record(ticket=ticket, actor=actor, verb="message_added", data={"message_id": message.pk, "kind": "public"})
    elif not initial:
        record(ticket=ticket, actor=actor, verb="message_added", data={"message_id": message.pk, "kind": message.kind})
    target = status_after
    if target is None and message.author_type == AuthorType.AGENT and message.kind == MessageKind.PUBLIC:
        target = Status.OPEN if ticket.status == Status.NEW else None
    if target and target != ticket.status and not initial:
        _apply_status(ticket, target, actor)
        updates.update(
            status=ticket.status,
            custom_status=ticket.custom_status,
            solved_at=ticket.solved_at,
            closed_at=ticket.closed_at,
        )
    Ticket.objects.filter(pk=ticket.pk).update(**updates)


def _attachment_perm(message: Message | None) -> Perm:
    """Attaching to a message needs what writing that message needs; to the ticket alone, updating the ticket."""
    if message is None:
        return Perm.TICKET_UPDATE
    return Perm.TICKET_REPLY_PUBLIC if message.kind == MessageKind.PUBLIC else Perm.TICKET_NOTE


def attachment_add(
    *,
    ticket: Ticket,
    actor: Actor,
    filename: str,
    content: bytes,
    content_type: str = "",
    message: Message | None = None,
    inline: bool = False,
    content_id: str = "",
) -> Attachment:
    """Store a file on a ticket (and message), enforcing the size and type limits."""
    authorize(actor, _attachment_perm(message), workspace_id=ticket.workspace_id)
    filename = clean_filename(filename)
    attachment_file_check(filename=filename, size=len(content))
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        message=message,
        filename=filename[:255],
        content_type=content_type[:120],
        size=len(content),
        sha256=digest,
        inline=inline,
        content_id=content_id,
    )
    attachment.file.save(filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


def message_set_delivery_status(*, message: Message, actor: Actor, status: str, error: str = "") -> Message:
    """Record how an outbound reply is doing (queued, sent, failed with a reason), shown to the agent: the
    channel's outbox does this, as the system."""
    authorize_system(actor)
    if status not in DeliveryStatus.values:
        raise ValidationFailed(gettext("Unknown delivery status '%(status)s'.") % {"status": status})
    Message.objects.filter(pk=message.pk).update(delivery_status=status, delivery_error=error[:2000])
    message.delivery_status, message.delivery_error = status, error[:2000]
    return message


def ticket_add_cc(*, ticket: Ticket, contacts: list[Contact], actor: Actor) -> list[Contact]:
    """Copy customers on a ticket (CC'd addresses of a mail); returns those newly added."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    current = set(ticket.cc_contacts.values_list("pk", flat=True))
    new = [c for c in contacts if c.pk not in current and c.pk != ticket.requester_id]
    new = [c for c in new if c.workspace_id == ticket.workspace_id]
    if new:
        ticket.cc_contacts.add(*new)
        record(
            ticket=ticket,
            actor=actor,
            verb="field_changed",
            field="cc",
            new=[{"id": c.pk, "name": c.display_name} for c in new],
        )
    return new


def message_set_external_id(*, message: Message, actor: Actor, external_id: str) -> Message:
    """Remember the id a channel gave our outbound message (its Message-ID), so replies to it thread back: the
    channel's outbox does this, as the system."""
    authorize_system(actor)
    Message.objects.filter(pk=message.pk).update(external_id=external_id[:255])
    message.external_id = external_id[:255]
    return message


EXTRACTION_SOURCES = ("ocr", "asr", "video")  # image text, speech, video keyframes + sound track


@transaction.atomic
def attachment_set_extracted_text(
    *, attachment: Attachment, actor: Actor, text: str, source: str, model: str, error: str = ""
) -> Attachment:
    """Store the text read from an attachment (OCR, speech, video) beside it, and note on its message what read it
    (`metadata["extracted"][attachment id]`). For speech and video, the message's `transcription` goes from queued
    to done, or to failed with the reason when `error` is given (a later success still turns it to done).
    The AI pipeline does this (it updates the ticket's searchable text)."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=attachment.workspace_id)
    if source not in EXTRACTION_SOURCES:
        raise ValidationFailed(
            gettext("Unknown extraction source '%(source)s'.") % {"source": source},
            details={"source": list(EXTRACTION_SOURCES)},
        )
    text = text.strip()[:MAX_BODY]
    Attachment.objects.filter(pk=attachment.pk).update(extracted_text=text)
    attachment.extracted_text = text
    if text:  # the ticket changed: the search sweep adds what was read to its document
        Ticket.objects.filter(pk=attachment.ticket_id).update(updated_at=now())
    if attachment.message_id is None:
        return attachment
    message = Message.objects.select_for_update().get(pk=attachment.message_id)
    metadata = dict(message.metadata or {})
    note: dict[str, Any] = {"source": source, "model": model[:200], "chars": len(text)}
    if error:
        note["error"] = error[:500]
    metadata["extracted"] = {**(metadata.get("extracted") or {}), str(attachment.pk): note}
    current = metadata.get("transcription")
    if source in ("asr", "video") and current in ("queued", "failed"):
        metadata["transcription"] = "failed" if error else "done"
        if error:
            metadata["transcription_error"] = error[:500]
        else:
            metadata.pop("transcription_error", None)
    Message.objects.filter(pk=message.pk).update(metadata=metadata)
    return attachment
