"""Adding to a ticket's conversation: replies, notes, customer messages, system messages, attachments."""

from __future__ import annotations

import hashlib
import html as html_lib
import mimetypes
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.choices import Channel
from pivotdesk.common.domain.filetypes import sniff_raster_image
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.html import html_to_text, sanitize_html, text_to_html
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import events
from pivotdesk.tickets.attachment_files import StoredFile, attachment_file_check, attachment_rows, clean_filename
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import Attachment, AuthorType, DeliveryStatus, Message, MessageKind, Status, Ticket
from pivotdesk.tickets.services.drafts import authorize_own_draft
from pivotdesk.tickets.services.timeline import record

MAX_BODY = 1_000_000
MAX_COPIES = 20  # Cc + Bcc addresses on one reply
MAX_PENDING_UPLOADS = 50  # files an agent may have pasted into one ticket's composer and not sent yet
AttachmentInput = tuple[str, bytes, str]  # (filename, content, content type or "")


def clean_copies(addresses: list[str], *, field: str) -> list[str]:
    """Cc or Bcc addresses as typed (one per item, or comma / semicolon separated): trimmed, lower-cased, each
    once, every one a valid e-mail address (`ValidationFailed` naming the first that is not)."""
    found: list[str] = []
    for item in addresses:
        for raw in re.split(r"[,;\s]+", without_nul(item or "")):
            address = raw.strip().strip("<>").lower()
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationFailed(
                    gettext("'%(address)s' is not an e-mail address.") % {"address": raw.strip()[:200]},
                    details={"field": field},
                ) from None
            if address not in found:
                found.append(address)
    return found


def _copies(ticket: Ticket, kind: str, cc: list[str] | None, bcc: list[str] | None) -> tuple[list[str], list[str]]:
    """The Cc / Bcc of a new message: only a public reply on an e-mail ticket has them, at most MAX_COPIES."""
    cc_list = clean_copies(cc or [], field="cc")
    bcc_list = [a for a in clean_copies(bcc or [], field="bcc") if a not in cc_list]
    if not (cc_list or bcc_list):
        return [], []
    if kind != MessageKind.PUBLIC or ticket.channel != Channel.EMAIL:
        raise ValidationFailed(gettext("Only a public reply on an e-mail ticket has Cc or Bcc."))
    if len(cc_list) + len(bcc_list) > MAX_COPIES:
        raise ValidationFailed(gettext("A reply is copied to at most %(count)s addresses.") % {"count": MAX_COPIES})
    return cc_list, bcc_list


def _attachment_url_prefix(ticket: Ticket) -> str:
    url = reverse("web:attachment", args=[ticket.number, 0])
    return url[: url.rstrip("/").rfind("/") + 1]


_UPLOAD_MARK = "cid:pivotdesk-upload-"


def _mark_uploads(ticket: Ticket, body_html: str, ids: set[int]) -> str:
    """Before sanitising: our attachment URL of each file the agent pasted into this reply becomes a `cid:` mark
    (the sanitiser drops every source on our own host), to be turned back by `_unmark_uploads`."""
    prefix = re.escape(_attachment_url_prefix(ticket))

    def one(match: re.Match[str]) -> str:
        pk = int(match.group(2))
        return f"{match.group(1)}{_UPLOAD_MARK}{pk}{match.group(3)}" if pk in ids else match.group(0)

    pattern = re.compile(r"""(\ssrc\s*=\s*["'])(?:https?://[^/"']+)?""" + prefix + r"""(\d+)/?(["'])""", re.I)
    return pattern.sub(one, body_html)


def _unmark_uploads(ticket: Ticket, html: str, ids: set[int]) -> str:
    prefix = _attachment_url_prefix(ticket)

    def one(match: re.Match[str]) -> str:
        pk = int(match.group(1))
        return f"{prefix}{pk}/" if pk in ids else ""

    return re.sub(re.escape(_UPLOAD_MARK) + r"(\d+)", one, html)


_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_LINK = re.compile(r"""<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>""", re.I | re.S)
_IMAGE = re.compile(r"<img\b[^>]*>", re.I)


_ALT = re.compile(r'\balt="([^"]*)"', re.I)


def _image_mark(match: re.Match[str]) -> str:
    """An inline image in the text version: its name (the alt text) in brackets, no words of any language."""
    alt = _ALT.search(match.group(0))
    name = html_lib.unescape(alt.group(1)).strip() if alt else ""
    return f"[🖼 {html_lib.escape(name)}]" if name else "[🖼]"


def composed_text(html: str) -> str:
    """The plain-text version of a reply written in the composer, for channels without HTML (the mail's text part,
    IM, SMS): list items keep a dash, a link its address, an inline image its file name."""

    def link(match: re.Match[str]) -> str:
        href, label = html_lib.unescape(match.group(1)), match.group(2)
        plain = re.sub(r"<[^>]+>", "", label).strip()
        if href.lower().startswith(("http:", "https:", "mailto:")) and html_lib.unescape(plain) != href:
            return f"{label} ({html_lib.escape(href)})"
        return label

    text = _LINK.sub(link, html)
    text = _LIST_ITEM.sub(lambda m: m.group(0) + "- ", text)
    text = _IMAGE.sub(_image_mark, text)
    return html_to_text(text)


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
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    uploads: list[int] | None = None,
    _initial: bool = False,
) -> Message:
    """Add a message to a ticket and publish `message.created`. The same external id on the same channel gives the
    same message back (idempotent delivery). Agent replies set first response; customer messages reopen.
    `files` are already in storage (`tickets.attachment_files`): their rows are inserted with one statement.
    `cc` / `bcc`: addresses copied on a public e-mail reply. `uploads`: ids of files the acting agent pasted or
    dropped into the composer (`reply_upload`); they become this message's attachments, and an `<img>` of the
    body that shows one of them keeps its source (any other source on our host is dropped by the sanitiser)."""
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
        cc_list, bcc_list = _copies(ticket, kind, cc, bcc)
        pending = _pending_uploads(ticket, actor, uploads)
        if not (body.strip() or body_html.strip() or attachments or files or pending):
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
        upload_ids = {a.pk for a in pending}
        if body_html.strip():
            html = _unmark_uploads(ticket, sanitize_html(_mark_uploads(ticket, body_html, upload_ids)), upload_ids)
        else:
            html = text_to_html(body)
        text = body if body.strip() else composed_text(html)
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
            cc=cc_list,
            bcc=bcc_list,
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
        if upload_ids:
            Attachment.objects.filter(pk__in=upload_ids, message__isnull=True).update(message=message)
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


def _pending_uploads(ticket: Ticket, actor: Actor, uploads: list[int] | None) -> list[Attachment]:
    """The acting agent's own not-yet-sent composer files of this ticket among `uploads` (others are ignored)."""
    if not uploads or actor.agent is None:
        return []
    ids = [int(pk) for pk in uploads if str(pk).isdigit()][:MAX_PENDING_UPLOADS]
    return list(
        Attachment.objects.filter(
            ticket_id=ticket.pk, message__isnull=True, uploaded_by_id=actor.agent.pk, pk__in=ids
        ).only("pk")
    )


def reply_upload(
    *,
    ticket: Ticket,
    actor: Actor,
    agent: AgentProfile,
    filename: str,
    content: bytes,
    content_type: str = "",
    kind: str = MessageKind.PUBLIC,
) -> Attachment:
    """Store a file an agent pasted or dropped into the reply composer, at once and with no message yet (the
    attachment rules apply: size and blocked types). A raster image (by its bytes) is marked inline, to be shown in
    the text. The reply that uses it claims it (`message_create(uploads=…)`). Needs what the reply would need."""
    if kind not in MessageKind.values:
        raise ValidationFailed(gettext("Unknown message kind '%(kind)s'.") % {"kind": kind})
    authorize_own_draft(
        actor, ticket, agent, Perm.TICKET_REPLY_PUBLIC if kind == MessageKind.PUBLIC else Perm.TICKET_NOTE
    )
    if not filename and not content:
        raise ValidationFailed(gettext("Choose a file to attach."))
    filename = clean_filename(filename)
    attachment_file_check(filename=filename, size=len(content))
    waiting = Attachment.objects.filter(ticket_id=ticket.pk, message__isnull=True, uploaded_by_id=agent.pk).count()
    if waiting >= MAX_PENDING_UPLOADS:
        raise ValidationFailed(
            gettext("Send the reply first: at most %(count)s files wait in it.") % {"count": MAX_PENDING_UPLOADS}
        )
    image_type = sniff_raster_image(content[:16])
    content_type = image_type or content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    attachment = Attachment(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        message=None,
        filename=filename[:255],
        content_type=content_type[:120],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        inline=image_type is not None,
        uploaded_by=agent,
    )
    attachment.file.save(filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


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
