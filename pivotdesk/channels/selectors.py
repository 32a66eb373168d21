"""Reads for channels: accounts, inbound payloads, and the ticket lookups that threading needs."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus, MailboxCheck, MailboxOAuth
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Message, Status, Ticket


def account_list(*, workspace: Workspace, kind: str | None = None) -> QuerySet[ChannelAccount]:
    qs = ChannelAccount.objects.filter(workspace=workspace)
    return qs.filter(kind=kind) if kind else qs


def access_account(*, workspace: Workspace, account_id: int) -> ChannelAccount:
    account = ChannelAccount.objects.filter(workspace=workspace, pk=account_id).first()
    if account is None:
        raise NotFound(gettext("Channel not found."), code=ChannelErrorCode.CHANNEL_NOT_FOUND)
    return account


def recent_checks(*, account: ChannelAccount, limit: int = 5) -> list[MailboxCheck]:
    """A mailbox's last connection tests, newest first (its "last test" and short history)."""
    return list(
        MailboxCheck.objects.filter(workspace_id=account.workspace_id, account=account)
        .select_related("checked_by__user")
        .order_by("-created_at", "-pk")[:limit]
    )


def oauth_grant(*, account: ChannelAccount) -> MailboxOAuth | None:
    """The mailbox's OAuth2 grant (status, provider, last error), if someone signed in."""
    return MailboxOAuth.objects.filter(workspace_id=account.workspace_id, account=account).first()


def account_by_webhook_key(*, kind: str, key: str) -> ChannelAccount:
    """The active account a public webhook URL points at (the key is the secret part of the URL)."""
    account = ChannelAccount.objects.select_related("workspace").filter(kind=kind, webhook_key=key, active=True).first()
    if account is None:
        raise NotFound(gettext("Unknown channel."), code=ChannelErrorCode.CHANNEL_NOT_FOUND)
    return account


def failed_payloads(*, workspace: Workspace) -> QuerySet[InboundPayload]:
    """Inbound payloads that could not be processed, newest first (for admins)."""
    return InboundPayload.objects.filter(workspace=workspace, status=InboundStatus.FAILED).order_by("-received_at")


def access_payload(*, workspace: Workspace, payload_id: int) -> InboundPayload:
    payload = InboundPayload.objects.filter(workspace=workspace, pk=payload_id).first()
    if payload is None:
        raise NotFound(gettext("Inbound payload not found."), code=ChannelErrorCode.PAYLOAD_NOT_FOUND)
    return payload


def survivor(ticket: Ticket) -> Ticket:
    """Follow merge pointers to the surviving ticket."""
    seen = 0
    while ticket.merged_into_id is not None and seen < 20:
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
        seen += 1
    return ticket


def ticket_by_number(*, workspace: Workspace, number: int) -> Ticket | None:
    found = Ticket.objects.filter(workspace=workspace, number=number).first()
    return survivor(found) if found else None


def ticket_by_message_ids(*, workspace: Workspace, ids: list[str]) -> Ticket | None:
    """The ticket holding the first of these Message-IDs we know (inbound or our own outbound)."""
    if not ids:
        return None
    rows = Message.objects.filter(workspace=workspace, external_id__in=ids[:50]).select_related("ticket")
    by_id = {m.external_id: m.ticket for m in rows}
    for mid in ids:
        if mid in by_id:
            return survivor(by_id[mid])
    return None


def recent_ticket_for(
    *, workspace: Workspace, contact: Contact, channel: str, since: dt.datetime, subject_key: str | None = None
) -> Ticket | None:
    """The contact's most recently updated ticket on a channel since a time (optionally with the same normalised
    subject), skipping merged tickets."""
    from pivotdesk.channels.domain.email_threading import normalize_subject

    qs = Ticket.objects.filter(
        workspace=workspace, requester=contact, channel=channel, updated_at__gte=since, merged_into__isnull=True
    ).order_by("-updated_at")
    for ticket in qs[:20]:
        if subject_key is None or normalize_subject(ticket.subject) == subject_key:
            return ticket
    return None


def tickets_opened_by(*, workspace: Workspace, contact: Contact, since: dt.datetime) -> int:
    return Ticket.objects.filter(workspace=workspace, requester=contact, created_at__gte=since).count()


def is_closed(ticket: Ticket) -> bool:
    return ticket.status == Status.CLOSED


def event_may_need_sending(event: dict[str, object]) -> bool:
    """Whether a message.created event is a public agent or bot reply (only those go out through the outbox)."""
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return True
    return payload.get("kind") == "public" and payload.get("author_type") in ("agent", "bot")


# Channels answered without an account of their own: chat replies appear in the visitor's widget.
_ANSWERED_WITHOUT_ACCOUNT = frozenset({"chat"})


def undeliverable_reply_channel(*, ticket: Ticket) -> str | None:
    """The channel kind a public reply on this ticket goes out through when no active account of that kind exists
    (so the reply will not be delivered), else None."""
    from pivotdesk.channels.services.outbox import REPLY_CHANNEL
    from pivotdesk.common.choices import Channel

    try:
        kind = REPLY_CHANNEL.get(Channel(ticket.channel))
    except ValueError:
        return None
    if kind is None or kind in _ANSWERED_WITHOUT_ACCOUNT:
        return None
    exists = ChannelAccount.objects.filter(workspace_id=ticket.workspace_id, kind=kind, active=True).exists()
    return None if exists else kind


def workspaces_without_channels() -> QuerySet[Workspace]:
    """Workspaces with no active channel account at all: nothing they reply will reach a customer."""
    with_accounts = ChannelAccount.objects.filter(active=True).values("workspace_id")
    return Workspace.objects.exclude(pk__in=with_accounts).order_by("pk")


def demo_delivery_accounts() -> QuerySet[ChannelAccount]:
    """Active accounts in demo delivery (their replies go to the local sink, nothing is sent)."""
    return ChannelAccount.objects.filter(active=True, config__delivery="demo").select_related("workspace")
