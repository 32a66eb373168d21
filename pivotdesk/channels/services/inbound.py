"""Inbound: store every raw payload first, then parse it, thread it onto a ticket or open one — idempotently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels import adapters, selectors
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services.intake_limits import PreparedInbound, both_languages, prepare_inbound
from pivotdesk.common.choices import Channel
from pivotdesk.common.db_retry import is_database_locked, retry_when_locked
from pivotdesk.common.domain.backoff import backoff_seconds
from pivotdesk.common.errors import DomainError
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.attachment_files import StoredFile, attachment_files_discard
from pivotdesk.tickets.models import Attachment, Message, MessageKind, Status, Ticket

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
    return retry_when_locked(  # outside a transaction: a locked database is tried again at once, a few times
        lambda: InboundPayload.objects.create(
            workspace=workspace,
            account=account,
            channel=channel,
            raw=raw,
            content_type=without_nul(content_type)[:120],
            meta=without_nul(meta or {}),
            received_at=now(),
            dedupe_key=without_nul(dedupe_key)[:300],
        ),
        attempts=3,
    )


def inbound_process(*, actor: Actor, payload: InboundPayload) -> InboundPayload:
    """Parse a stored payload and deliver each message it holds. Safe to run twice: a processed, ignored or
    duplicate payload is left alone; a failure is recorded with its reason and can be re-processed. The system
    processes; an admin (CHANNEL_CONFIGURE) may re-process, and the delivery is then done by the intake."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=payload.workspace_id)
    if payload.status in (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.DUPLICATE):
        return payload
    parser = adapters.parser_for(payload.channel)
    retry_when_locked(lambda: InboundPayload.objects.filter(pk=payload.pk).update(attempts=F("attempts") + 1))
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
            message, duplicate = _deliver_prepared(payload, inbound)
        except DomainError as exc:
            return _finish(payload, InboundStatus.FAILED, exc.message)
        except Exception as exc:
            if is_database_locked(exc):  # still locked after a few quick tries: a visible row, retried later
                log.warning("payload %s: the database stayed locked; retried later", payload.pk)
                return _finish(payload, InboundStatus.FAILED, f"{LOCKED_REASON} ({exc})", retry=True)
            log.exception("delivering payload %s failed", payload.pk)
            return _finish(payload, InboundStatus.FAILED, f"{type(exc).__name__}: {exc}")
        payload.ticket_id, payload.message_id = message.ticket_id, message.pk
        if duplicate and len(messages) == 1:
            status, reason = InboundStatus.DUPLICATE, f"Already received as message #{message.pk}."
    try:
        return _finish(payload, status, reason)
    except Exception as exc:
        if not is_database_locked(exc):
            raise
        # The messages are stored; only the outcome could not be written. The row stays `received` and the retry
        # scan processes it again (delivery is idempotent by external id), so the caller sees no error.
        log.warning("payload %s: its outcome could not be written (database locked)", payload.pk)
        return payload


#: The reason of a payload that found the database locked (stored data: a fact, shown as is on the admin page).
LOCKED_REASON = "database is locked: retried automatically"
STRANDED_AFTER = dt.timedelta(minutes=5)


def _deliver_prepared(payload: InboundPayload, inbound: NormalizedInbound) -> tuple[Message, bool]:
    """Deliver one message with a short write transaction: the duplicate check, the limits and every file write
    come first; the transaction only inserts rows, and runs again when it finds the database locked."""
    inbound, existing = _deduplicated(payload.workspace, _storable(inbound))
    if existing is not None:
        return existing, True
    prepared = prepare_inbound(payload.workspace, inbound, payload_id=payload.pk)

    def deliver() -> tuple[Message, bool]:
        with transaction.atomic():
            return inbound_deliver(
                actor=INTAKE, workspace=payload.workspace, inbound=inbound, account=payload.account, prepared=prepared
            )

    try:
        return retry_when_locked(deliver)
    except BaseException:
        attachment_files_discard(prepared.files)  # nothing refers to them: the rows were rolled back
        raise


def _finish(payload: InboundPayload, status: str, reason: str, *, retry: bool = False) -> InboundPayload:
    """Record the outcome. A failure worth trying again (a locked database) gets a due time with the shared
    back-off while attempts remain; `inbound_retry_due` picks it up."""
    payload.status, payload.reason, payload.processed_at = status, without_nul(reason)[:4000], now()
    retry_at = None
    if retry and payload.attempts < settings.PIVOTDESK_INBOUND_MAX_ATTEMPTS:
        retry_at = now() + dt.timedelta(seconds=backoff_seconds(payload.attempts, base_s=5.0, cap_s=600.0))
    payload.retry_at = retry_at
    retry_when_locked(
        lambda: InboundPayload.objects.filter(pk=payload.pk).update(
            status=status,
            reason=payload.reason,
            processed_at=payload.processed_at,
            ticket_id=payload.ticket_id,
            message_id=payload.message_id,
            classification=payload.classification,
            retry_at=retry_at,
        )
    )
    return payload


def inbound_retry_due(*, actor: Actor, limit: int = 100) -> list[int]:
    """Claim the payloads to process again now: failed ones whose retry is due (a locked database), and received
    ones nobody finished within 5 minutes (a worker that died, a lost task, an outcome that could not be written).
    Each claimed row gets 5 minutes before the next scan may take it again. The system runs this from beat; the ids
    go to `process_inbound_task`."""
    authorize_system(actor)
    at = now()
    due = Q(status__in=[InboundStatus.FAILED, InboundStatus.RECEIVED], retry_at__lte=at) | Q(
        status=InboundStatus.RECEIVED, retry_at__isnull=True, received_at__lt=at - STRANDED_AFTER
    )
    rows = InboundPayload.objects.filter(due, attempts__lt=settings.PIVOTDESK_INBOUND_MAX_ATTEMPTS).exclude(
        meta__has_key="rejected"  # a call refused for its signature is kept for the admin, never processed
    )
    ids = list(rows.order_by("pk").values_list("pk", flat=True)[:limit])
    if ids:
        InboundPayload.objects.filter(pk__in=ids).update(retry_at=at + STRANDED_AFTER)
    return ids


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


def _storable(inbound: NormalizedInbound) -> NormalizedInbound:
    """The message with NUL characters removed from its text fields (names, ids, bodies, metadata), which
    PostgreSQL cannot store or even compare; attachments stay as they came."""
    changes = {
        f.name: without_nul(getattr(inbound, f.name))
        for f in dataclasses.fields(inbound)
        if isinstance(getattr(inbound, f.name), str | dict) or f.name in ("reply_to_ids", "followers")
    }
    return dataclasses.replace(inbound, **changes)


def content_digest(inbound: NormalizedInbound) -> str:
    """What a message says, as a short hash: who sent it, the subject and the whole text (with its files' names and
    sizes). Two deliveries with the same external id and the same digest are one message delivered twice."""
    parts = [inbound.identity_kind, inbound.identity_value, inbound.subject, inbound.full_text or inbound.text]
    parts += [f"{a.filename}:{len(a.content)}" for a in inbound.attachments]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", errors="replace")).hexdigest()[:24]


def _existing(workspace: Workspace, inbound: NormalizedInbound) -> Message | None:
    if not inbound.external_id:
        return None
    return Message.objects.filter(workspace=workspace, channel=inbound.channel, external_id=inbound.external_id).first()


def _deduplicated(workspace: Workspace, inbound: NormalizedInbound) -> tuple[NormalizedInbound, Message | None]:
    """The message as it will be stored, and the one already stored if this is a repeat delivery.

    Deduplication is on the external id **and** the content: senders do reuse Message-IDs (broken mailers, templates,
    list software), and dropping a different mail as a "duplicate" loses it. A different message under a known id is
    stored under `<id>#<digest>`, so its own repeats are still recognised."""
    digest = content_digest(inbound)
    inbound = dataclasses.replace(inbound, metadata={**inbound.metadata, "content_digest": digest})
    existing = _existing(workspace, inbound)
    if existing is None:
        return inbound, None
    stored = existing.metadata.get("content_digest") if isinstance(existing.metadata, dict) else None
    if stored is None or stored == digest:  # the same message again (older rows have no digest: trust the id)
        return inbound, existing
    inbound = dataclasses.replace(inbound, external_id=f"{inbound.external_id[:200]}#{digest[:16]}")
    return inbound, _existing(workspace, inbound)


def inbound_deliver(
    *,
    actor: Actor,
    workspace: Workspace,
    inbound: NormalizedInbound,
    account: ChannelAccount | None = None,
    prepared: PreparedInbound | None = None,
) -> tuple[Message, bool]:
    """Turn one normalised message into a ticket message: resolve the contact, thread it, store it.
    Returns (message, was_duplicate). The same external id twice gives the same message. System only.
    `prepared` holds the bodies and the files already stored (`inbound_process` prepares them before its
    transaction); without it they are prepared here."""
    authorize_system(actor)
    inbound, existing = _deduplicated(workspace, _storable(inbound))
    if existing is not None:
        return existing, True
    if prepared is None:
        prepared = prepare_inbound(workspace, inbound)
    contact = customer_services.contact_resolve(
        actor=Actor.system("channel"),
        workspace=workspace,
        kind=inbound.identity_kind,
        value=inbound.identity_value,
        name=inbound.sender_name,
    )
    actor = Actor.for_contact(contact.pk, contact.display_name)
    ticket = _find_ticket(workspace, inbound, contact)
    metadata = {**inbound.metadata, "channel_account_id": account.pk if account else None}
    if inbound.full_text and inbound.full_text.strip() != inbound.text.strip():
        metadata["full_text"] = inbound.full_text[:200_000]
    if inbound.needs_transcription:
        metadata["transcription"] = "queued"
    if inbound.conversation_key and inbound.channel != Channel.EMAIL:
        metadata["conversation_key"] = inbound.conversation_key
    if prepared.left_out:
        metadata["left_out"] = {"parts": prepared.left_out, "names": prepared.left_out_names}
    if prepared.truncated:
        metadata["truncated"] = prepared.truncated
    followup_of = None
    if ticket is not None and ticket.status == Status.CLOSED:
        followup_of, ticket = ticket, None
    try:
        if ticket is None:
            message = _open_ticket(
                workspace=workspace,
                inbound=inbound,
                prepared=prepared,
                contact=contact,
                actor=actor,
                metadata=metadata,
            )
            ticket = message.ticket
            if followup_of is not None:
                ticket_services.ticket_link(source=ticket, target=followup_of, kind="related", actor=actor)
        else:
            message = ticket_services.message_create(
                ticket=ticket,
                actor=actor,
                body=prepared.text,
                body_html=prepared.html,
                as_customer=True,
                channel=inbound.channel,
                external_id=inbound.external_id,
                metadata=metadata,
                files=prepared.files,
                author_contact=contact,
                created_at=None,
            )
    except IntegrityError:  # a concurrent delivery of the same external id won the race
        existing = _existing(workspace, inbound)
        if existing is None:
            raise
        return existing, True
    _link_inline_images(message, prepared.files)
    if prepared.left_out:
        _note_left_out(message, prepared)
    _add_followers(workspace, message.ticket, inbound, actor)
    return message, False


def _open_ticket(
    *,
    workspace: Workspace,
    inbound: NormalizedInbound,
    prepared: PreparedInbound,
    contact: Contact,
    actor: Actor,
    metadata: dict[str, Any],
) -> Message:
    limit = settings.PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR
    if selectors.tickets_opened_by(workspace=workspace, contact=contact, since=now() - dt.timedelta(hours=1)) >= limit:
        raise RateLimitedSender(
            gettext("%(sender)s opened more than %(limit)s tickets in the last hour.")
            % {"sender": inbound.identity_value, "limit": limit},
            code=ChannelErrorCode.SENDER_RATE_LIMITED,
        )
    body = prepared.text or ("" if prepared.html else "(no text)")
    ticket = ticket_services.ticket_create(
        workspace=workspace,
        requester=contact,
        subject=inbound.subject,
        body=body,
        body_html=prepared.html,
        actor=actor,
        channel=inbound.channel,
        message_external_id=inbound.external_id,
        message_metadata=metadata,
        message_files=prepared.files,
        tags=[str(t) for t in inbound.metadata.get("tags", [])],
    )
    message = Message.objects.filter(ticket=ticket).order_by("pk").first()
    if message is None:  # pragma: no cover - ticket_create always writes the first message when there is a body
        raise RuntimeError("ticket_create wrote no first message")
    return message


def inline_image_url(*, ticket: Ticket, attachment_id: int) -> str:
    """Where an inline mail image (`cid:`) points once stored: the agent UI's authenticated attachment URL, which
    serves raster images inline through `common.user_files` (the `/media/` folder exists only with DEBUG on)."""
    return reverse("web:attachment", args=[ticket.number, attachment_id])


_CID_SOURCE = re.compile(r"""(?<=["'])cid:([^"'\s>]+)(?=["'])""")


def _link_inline_images(message: Message, files: list[StoredFile]) -> None:
    """Point the message's `cid:` image sources at the stored inline parts (one read, at most one write)."""
    wanted = {f.content_id for f in files if f.inline and f.content_id}
    html = message.body_html
    if not wanted or "cid:" not in html:
        return
    rows = Attachment.objects.filter(message=message, inline=True, content_id__in=wanted).values_list(
        "pk", "content_id"
    )
    urls = {cid: inline_image_url(ticket=message.ticket, attachment_id=pk) for pk, cid in rows}

    # Exactly `cid:<id>` between the attribute's quotes, so `cid:a` never rewrites `cid:ab`.
    new = _CID_SOURCE.sub(lambda m: urls.get(m.group(1), m.group(0)), html)
    if new != html:
        Message.objects.filter(pk=message.pk).update(body_html=new)
        message.body_html = new


def _note_left_out(message: Message, prepared: PreparedInbound) -> None:
    """An internal note on the ticket saying, in both languages, how many parts were not stored and where they are
    (nothing is dropped silently); the facts are in its metadata too."""
    params = {"count": prepared.left_out, "payload": prepared.payload_id or "-"}
    text = both_languages(
        lambda: (
            gettext(
                "%(count)s parts of this message were not stored as files (over the intake limits); the raw payload "
                "#%(payload)s keeps them."
            )
            % params
        )
    )
    if prepared.left_out_names:
        text += "\n" + ", ".join(prepared.left_out_names)
    ticket_services.message_create(
        ticket=message.ticket,
        actor=INTAKE,
        body=text,
        kind=MessageKind.NOTE,
        metadata={
            "left_out": {
                "message_id": message.pk,
                "parts": prepared.left_out,
                "names": prepared.left_out_names,
                "payload_id": prepared.payload_id,
            }
        },
    )


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
