"""Reads for the public intake (web form, chat widget) and for the agent's delivery-status screens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.domain.web_form import AttachmentRules, FormField, attachment_rules, form_fields
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, ChannelKind, InboundPayload, OutboundMessage
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.domain.custom_fields import FieldSpec
from pivotdesk.tickets.models import AuthorType, Message, MessageKind, Ticket

CHAT_IDENTITY = "web"


@dataclass(frozen=True)
class WebFormDefinition:
    """What the public form shows: texts in both languages, fields in order, attachment limits, captcha."""

    account: ChannelAccount
    fields: list[FormField]
    attachments: AttachmentRules
    texts: dict[str, str] = field(default_factory=dict)


def _text(config: dict[str, Any], key: str, language: str) -> str:
    zh = language.lower().startswith("zh")
    value = config.get(f"{key}_zh") if zh else None
    return str(value or config.get(key) or "")


def web_form_definition(*, account: ChannelAccount, language: str = "en") -> WebFormDefinition:
    """The form of a web_form channel, with the workspace's custom fields it names."""
    custom = [
        FormField(
            key=f.key,
            required=False,
            custom=FieldSpec(key=f.key, field_type=f.field_type, options=tuple(map(str, f.options or ()))),
            label=f.label,
            label_zh=f.label_zh,
        )
        for f in ticket_selectors.custom_field_list(workspace=account.workspace)
    ]
    config = account.config or {}
    return WebFormDefinition(
        account=account,
        fields=form_fields(config, custom),
        attachments=attachment_rules(
            config,
            max_bytes=settings.PIVOTDESK_ATTACHMENT_MAX_BYTES,
            blocked=list(settings.PIVOTDESK_ATTACHMENT_BLOCKED_EXTENSIONS),
        ),
        texts={k: _text(config, k, language) for k in ("title", "intro", "thank_you")},
    )


def public_account(*, kind: str, key: str) -> ChannelAccount:
    """The active web_form/chat account behind a public URL key, else NotFound."""
    if kind not in (ChannelKind.WEB_FORM, ChannelKind.CHAT):
        raise NotFound(gettext("Unknown channel."), code=ChannelErrorCode.CHANNEL_NOT_FOUND)
    account = ChannelAccount.objects.select_related("workspace").filter(kind=kind, webhook_key=key, active=True).first()
    if account is None:
        raise NotFound(gettext("Unknown channel."), code=ChannelErrorCode.CHANNEL_NOT_FOUND)
    return account


def session_tickets(*, account: ChannelAccount, visitor: str) -> QuerySet[Ticket]:
    """Tickets a chat session wrote on (its messages carry the visitor id as conversation key), newest first."""
    ids = (
        Message.objects.filter(workspace_id=account.workspace_id, channel="chat", metadata__conversation_key=visitor)
        .values("ticket_id")
        .annotate(last=Max("pk"))
        .order_by("-last")
        .values_list("ticket_id", flat=True)
    )
    return Ticket.objects.filter(workspace_id=account.workspace_id, pk__in=list(ids[:20])).order_by("-pk")


def chat_messages(*, account: ChannelAccount, visitor: str, since: int = 0, limit: int = 100) -> list[Message]:
    """The public conversation a chat visitor sees (their messages and agents' public replies) after an id."""
    ticket_ids = list(session_tickets(account=account, visitor=visitor).values_list("pk", flat=True))
    if not ticket_ids:
        return []
    qs = (
        Message.objects.filter(
            workspace_id=account.workspace_id,
            ticket_id__in=ticket_ids,
            kind=MessageKind.PUBLIC,
            author_type__in=(AuthorType.CONTACT, AuthorType.AGENT, AuthorType.BOT),
            pk__gt=since,
        )
        .select_related("author_agent__user", "ticket")
        .prefetch_related("attachments")
        .order_by("pk")
    )
    return list(qs[:limit])


def visitor_last_seen(*, workspace_id: int, visitor: str) -> dt.datetime | None:
    """When a chat visitor was last seen: their identity's last poll, or their last message, whichever is later."""
    identity = ChannelIdentity.objects.filter(workspace_id=workspace_id, kind=CHAT_IDENTITY, value=visitor).first()
    seen = identity.last_seen_at if identity else None
    last_message = (
        Message.objects.filter(
            workspace_id=workspace_id, channel="chat", author_type=AuthorType.CONTACT,
            metadata__conversation_key=visitor,
        )
        .order_by("-pk")
        .values_list("created_at", flat=True)
        .first()
    )  # fmt: skip
    candidates = [t for t in (seen, last_message) if t is not None]
    return max(candidates) if candidates else None


def has_chat_identity(*, workspace_id: int, visitor: str) -> bool:
    return ChannelIdentity.objects.filter(workspace_id=workspace_id, kind=CHAT_IDENTITY, value=visitor).exists()


def chat_session_of(message: Message) -> str:
    """The chat visitor a reply on a chat ticket goes to: the latest customer chat message's conversation key."""
    latest = (
        Message.objects.filter(ticket_id=message.ticket_id, channel="chat", author_type=AuthorType.CONTACT)
        .exclude(metadata__conversation_key=None)
        .order_by("-pk")
        .first()
    )
    key = latest.metadata.get("conversation_key") if latest is not None else None
    return str(key) if key else ""


def mailbox_for_replies(*, workspace_id: int, account: ChannelAccount | None = None) -> ChannelAccount | None:
    """The mailbox a chat continues by email from: the one the chat account names, else the workspace's first."""
    qs = ChannelAccount.objects.filter(workspace_id=workspace_id, kind=ChannelKind.EMAIL, active=True)
    wanted = (account.config or {}).get("email_account_id") if account is not None else None
    if wanted:
        found = qs.filter(pk=wanted).first()
        if found is not None:
            return found
    return qs.order_by("pk").first()


def outbound_for_message(*, workspace: Workspace, message_id: int) -> OutboundMessage:
    """The outbox row of a message of this workspace, else NotFound."""
    found = OutboundMessage.objects.filter(workspace=workspace, message_id=message_id).first()
    if found is None:
        raise NotFound(gettext("No outbound delivery for this message."), code=ChannelErrorCode.DELIVERY_NOT_FOUND)
    return found


def outbound_by_message(*, workspace: Workspace, message_ids: list[int]) -> dict[int, OutboundMessage]:
    """Outbox rows of these messages by message id (one query, for a conversation)."""
    rows = OutboundMessage.objects.filter(workspace=workspace, message_id__in=message_ids)
    return {o.message_id: o for o in rows}


def ticket_number_of(*, workspace_id: int, ticket_id: int) -> int | None:
    """A ticket's number (following merges to the survivor)."""
    ticket = Ticket.objects.filter(workspace_id=workspace_id, pk=ticket_id).first()
    while ticket is not None and ticket.merged_into_id is not None:
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket.number if ticket is not None else None


def public_payload(*, account: ChannelAccount, payload_id: int) -> InboundPayload:
    """A payload this public channel received, else NotFound."""
    found = InboundPayload.objects.filter(workspace_id=account.workspace_id, account=account, pk=payload_id).first()
    if found is None:
        raise NotFound(gettext("Submission not found."), code=ChannelErrorCode.SUBMISSION_NOT_FOUND)
    return found


def chat_message(*, account: ChannelAccount, message_id: int) -> Message:
    """A message of this chat channel's workspace, else NotFound."""
    found = (
        Message.objects.select_related("ticket", "author_agent__user")
        .filter(workspace_id=account.workspace_id, pk=message_id)
        .first()
    )
    if found is None:
        raise NotFound(gettext("Message not found."), code=ChannelErrorCode.MESSAGE_NOT_FOUND)
    return found
