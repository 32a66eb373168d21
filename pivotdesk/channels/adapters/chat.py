"""The chat widget channel: visitor messages → NormalizedInbound, and agent replies back to the widget session.

The widget posts `{"text": "…", "name": "…", "email": "…", "client_id": "…", "page_url": "…"}` to
/channels/chat/<key>/messages/ with its signed visitor token; the view stores that body raw with the verified
visitor id in the payload's meta, and this parser reads both. A session is one visitor id: its first message opens
a ticket (channel "chat"), later ones append to the session's latest ticket.

Replies: the "chat" sender marks a reply delivered to the widget, which shows it on its next poll. When the visitor
has not polled for `away_after_minutes`, the conversation continues by email: the reply is handed to the email
sender through the workspace's mailbox, or fails with the reason when there is no address or no mailbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import intake_selectors
from pivotdesk.channels.adapters import register_parser, register_sender, sender_for
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.domain.payload_shape import as_text, load_json_object
from pivotdesk.common.errors import DomainError
from pivotdesk.common.time import now
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.domain.identity import IdentityError, normalize_email

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

MAX_TEXT = 10_000


def _identity(payload: InboundPayload, visitor: str, email: str, name: str) -> tuple[str, str]:
    """Who wrote: a visitor already known keeps their contact (an email they now give is attached to it); a new
    visitor with an email is the contact of that email (so the same address across channels is one contact)."""
    workspace = payload.workspace
    web = intake_selectors.CHAT_IDENTITY
    if intake_selectors.has_chat_identity(workspace_id=workspace.pk, visitor=visitor):
        if email:
            contact = customer_services.contact_resolve(
                actor=Actor.system("channel"), workspace=workspace, kind=web, value=visitor, name=name
            )
            # An address that is another contact's stays there: agents see the pair as a probable duplicate.
            with contextlib.suppress(DomainError):
                customer_services.identity_attach(
                    actor=Actor.system("channel"), contact=contact, kind="email", value=email
                )
        return web, visitor
    if email:
        contact = customer_services.contact_resolve(
            actor=Actor.system("channel"), workspace=workspace, kind="email", value=email, name=name
        )
        try:
            customer_services.identity_attach(actor=Actor.system("channel"), contact=contact, kind=web, value=visitor)
        except DomainError:
            return web, visitor
        return "email", email
    return web, visitor


@register_parser("chat")
def parse_chat(payload: InboundPayload) -> list[NormalizedInbound]:
    """One visitor message; threaded onto the session's latest ticket when it has one."""
    visitor = str((payload.meta or {}).get("visitor") or "")
    if not visitor:
        raise PayloadError("The chat message carries no verified visitor id.")
    data = load_json_object(bytes(payload.raw))
    text = as_text(data.get("text"), "text").strip()
    if not text:
        raise PayloadError("The chat message is empty.")
    if len(text) > MAX_TEXT:
        raise PayloadError(f"The chat message is longer than {MAX_TEXT} characters.")
    name = as_text(data.get("name"), "name").strip()[:200]
    email = ""
    raw_email = as_text(data.get("email"), "email").strip()
    if raw_email:
        try:
            email = normalize_email(raw_email)
        except IdentityError as exc:
            raise PayloadError(str(exc)) from exc
    kind, value = _identity(payload, visitor, email, name)
    ticket_number = None
    if payload.account is not None:
        latest = intake_selectors.session_tickets(account=payload.account, visitor=visitor).first()
        ticket_number = latest.number if latest is not None else None
    # The subject is the visitor's own first line: no English "Chat:" is stored. The queue and the ticket page show
    # the channel's label ("Chat" / "在线聊天") in the reader's language; a prefix the admin configured is kept.
    subject_prefix = str((payload.account.config or {}).get("subject_prefix") or "").strip() if payload.account else ""
    first_line = text.splitlines()[0][:70]
    client_id = as_text(data.get("client_id"), "client_id")[:80]
    return [
        NormalizedInbound(
            channel="chat",
            identity_kind=kind,
            identity_value=value,
            sender_name=name,
            subject=f"{subject_prefix}: {first_line}" if subject_prefix else first_line,
            text=text,
            external_id=f"chat:{payload.account_id or 0}:{visitor}:{client_id}" if client_id else "",
            ticket_number=ticket_number,
            conversation_key=visitor,
            metadata={"chat": {"page_url": as_text(data.get("page_url"), "page_url")[:500]}},
        )
    ]


def _visitor_present(account: ChannelAccount | None, workspace_id: int, visitor: str) -> bool:
    from pivotdesk.channels.services.chat import away_after_minutes

    if account is None:
        return True
    seen = intake_selectors.visitor_last_seen(workspace_id=workspace_id, visitor=visitor)
    return seen is not None and now() - seen <= dt.timedelta(minutes=away_after_minutes(account))


@register_sender("chat")
def send_chat(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """Deliver an agent reply to the visitor's widget, or by email when the visitor has left."""
    from pivotdesk.channels.models import OutboundMessage as Outbound
    from pivotdesk.channels.services.outbox import SendError
    from pivotdesk.tickets.models import Message

    message = Message.objects.select_related("ticket__requester").get(pk=outbound.message_id)
    visitor = intake_selectors.chat_session_of(message) or outbound.recipient
    if _visitor_present(account, outbound.workspace_id, visitor):
        return f"chat:{visitor}:{message.pk}"
    email = message.ticket.requester.email
    if not email:
        raise SendError("The visitor left the chat and gave no email address to continue by email.", permanent=True)
    email_sender = sender_for("email")
    mailbox = intake_selectors.mailbox_for_replies(workspace_id=outbound.workspace_id, account=account)
    if email_sender is None or mailbox is None:
        raise SendError(
            "The visitor left the chat; continuing by email needs an email mailbox, and none is configured.",
            permanent=True,
        )
    by_email = Outbound(
        pk=outbound.pk,
        workspace_id=outbound.workspace_id,
        message_id=outbound.message_id,
        account=mailbox,
        channel="email",
        recipient=email,
        attempts=outbound.attempts,
    )
    return f"email:{email_sender(by_email, mailbox)}"
