"""Partner providers (third-party night service, spare-parts depot, remote guidance) and their scoped ticket links.

A partner never signs in. An agent who may update a ticket brings a partner in (`partner_invite`): the partner gets
a link to that one ticket, valid for some hours, showing only what the agent chose to share (every public message,
or the chosen ones) plus what the partner itself posted through the link. The link's secret is returned once and
only its SHA-256 is kept, so a database leak yields no usable link; the lookup is by the unique hash, so no
comparison of secrets runs in Python (nothing to time). Every public operation resolves the token first and
answers `NotFound` alike for an unknown, expired or revoked link, and every query below is filtered by the access's
workspace and ticket: the link reaches nothing else.

The partner acts as the system, labelled with its name (the gate lets the system through), so the scoping here is
the only thing standing between a link and the workspace: keep every query keyed by `access`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.domain.identity import IdentityError, normalize_email
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.notifications.services import absolute_url, validate_apprise_url
from pivotdesk.oncall.errors import OncallErrorCode
from pivotdesk.oncall.models import Partner, PartnerAccess
from pivotdesk.tickets.models import Attachment, Message, MessageKind, Status, Ticket
from pivotdesk.tickets.selectors import visible_tickets
from pivotdesk.tickets.services import message_create
from pivotdesk.tickets.services.timeline import record, ref

log = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so a lookup by hash needs no further secrecy
MAX_TOKEN_CHARS = 128
DEFAULT_HOURS = 24
MAX_HOURS = 24 * 14
MAX_EMAILS = 10
MAX_TARGETS = 10
MAX_REPLY_CHARS = 20_000
MAX_FILES = 5
PARTNER_FIELDS = frozenset({"name", "emails", "targets", "language", "is_active", "organization_id"})
LANGUAGES = ("zh-hans", "en")
REPLY_KINDS = (MessageKind.PUBLIC, MessageKind.NOTE)

FileInput = tuple[str, bytes, str]  # (filename, content, content type or "")


# --- configuration (supervisors) ---------------------------------------------------------------------------------


def _invalid(message: str, field: str = "") -> ValidationFailed:
    return ValidationFailed(message, code=OncallErrorCode.INVALID_VALUE, details={field: "invalid"} if field else None)


def _string_list(value: Any, field: str, limit: int) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _invalid(gettext("Give a list of texts."), field)
    items = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > limit:
        raise _invalid(gettext("At most %(n)s entries.") % {"n": limit}, field)
    return items


def _clean_emails(value: Any) -> list[str]:
    emails = []
    for item in _string_list(value, "emails", MAX_EMAILS):
        try:
            emails.append(normalize_email(item))
        except IdentityError as exc:
            raise _invalid(gettext("“%(value)s” is not an email address.") % {"value": item[:200]}, "emails") from exc
    return list(dict.fromkeys(emails))


def _organization(workspace: Workspace, org_id: Any) -> CustomerOrganization | None:
    if org_id is None:
        return None
    org = (
        CustomerOrganization.objects.filter(pk=org_id, workspace_id=workspace.pk).first()
        if isinstance(org_id, int) and not isinstance(org_id, bool)
        else None
    )
    if org is None:
        raise NotFound(
            gettext("No such organization."), code=OncallErrorCode.NOT_FOUND, details={"organization_id": "?"}
        )
    return org


def _clean_flags(fields: Mapping[str, Any], partner: Partner) -> None:
    if "language" in fields:
        language = str(fields["language"] or "").strip().lower()
        if language not in LANGUAGES:
            raise _invalid(gettext("The language is zh-hans or en."), "language")
        partner.language = language
    if "is_active" in fields:
        if not isinstance(fields["is_active"], bool):
            raise _invalid(gettext("Active is yes or no."), "is_active")
        partner.is_active = fields["is_active"]


def _clean_fields(workspace: Workspace, fields: Mapping[str, Any], partner: Partner) -> None:
    unknown = sorted(set(fields) - PARTNER_FIELDS)
    if unknown:
        raise _invalid(gettext("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)[:200]}, unknown[0])
    if "name" in fields or partner.pk is None:
        name = str(fields.get("name") or "").strip()
        if not name or len(name) > 120:
            raise _invalid(gettext("A name of 1 to 120 characters is required."), "name")
        partner.name = name
    if "emails" in fields:
        partner.emails = _clean_emails(fields["emails"])
    if "targets" in fields:
        partner.targets = [validate_apprise_url(url) for url in _string_list(fields["targets"], "targets", MAX_TARGETS)]
    _clean_flags(fields, partner)
    if "organization_id" in fields:
        partner.organization = _organization(workspace, fields["organization_id"])


def partner_save(
    *, actor: Actor, workspace: Workspace, fields: Mapping[str, Any], partner: Partner | None = None
) -> Partner:
    """Create a partner (`partner` None) or change the given fields of one. Supervisors decide who is brought in
    at night, as they do for routing; apprise URLs are checked offline and refused when they point inside."""
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=workspace.pk)
    if partner is not None and partner.workspace_id != workspace.pk:
        raise NotFound(gettext("No such partner."), code=OncallErrorCode.NOT_FOUND)
    row = partner or Partner(workspace=workspace)
    _clean_fields(workspace, fields, row)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            gettext("That name is already used."), code=OncallErrorCode.DUPLICATE_NAME, details={"name": "taken"}
        ) from exc
    return row


def partner_delete(*, actor: Actor, partner: Partner) -> None:
    """Remove a partner: its links stop working at once (their rows go with it) and it leaves every policy."""
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=partner.workspace_id)
    partner.delete()


# --- bringing a partner into a ticket (agents) --------------------------------------------------------------------


_hash = secret_digest


def _seen_ticket(actor: Actor, ticket: Ticket, perm: Perm) -> None:
    """The gate, then: an agent must be able to see the ticket (else it does not exist for them)."""
    authorize(actor, perm, workspace_id=ticket.workspace_id)
    if actor.agent is not None and not (
        visible_tickets(workspace=actor.agent.workspace, agent=actor.agent).filter(pk=ticket.pk).exists()
    ):
        raise NotFound(gettext("Ticket not found."), code=OncallErrorCode.NOT_FOUND)


def _message_ids(ticket: Ticket, message_ids: Iterable[Any]) -> list[int]:
    ids = list(dict.fromkeys(message_ids))
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise _invalid(gettext("Message ids are whole numbers."), "message_ids")
    found = set(
        Message.objects.filter(
            workspace_id=ticket.workspace_id, ticket_id=ticket.pk, pk__in=ids, kind__in=REPLY_KINDS
        ).values_list("pk", flat=True)
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise _invalid(
            gettext("These messages are not in this ticket's conversation: %(ids)s.")
            % {"ids": ", ".join(str(i) for i in missing[:10])},
            "message_ids",
        )
    return sorted(found)


def partner_invite(
    *,
    actor: Actor,
    ticket: Ticket,
    partner: Partner,
    share_all: bool = False,
    message_ids: Sequence[int] = (),
    hours: int = DEFAULT_HOURS,
) -> tuple[PartnerAccess, str]:
    """Give a partner a link to this ticket, showing every public message (`share_all`) or the chosen messages.
    Returns the access and the raw token: shown once, never stored (`partner_link` makes the URL of it)."""
    _seen_ticket(actor, ticket, Perm.TICKET_UPDATE)
    if partner.workspace_id != ticket.workspace_id:
        raise NotFound(gettext("No such partner."), code=OncallErrorCode.NOT_FOUND)
    if not partner.is_active:
        raise Conflict(gettext("This partner is switched off."), code=OncallErrorCode.WRONG_STATE)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise _invalid(gettext("A link is valid for 1 to %(n)s hours.") % {"n": MAX_HOURS}, "hours")
    ids = _message_ids(ticket, message_ids)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        access = PartnerAccess.objects.create(
            workspace_id=ticket.workspace_id,
            partner=partner,
            ticket=ticket,
            token_hash=_hash(token),
            expires_at=now() + dt.timedelta(hours=hours),
            shared_message_ids=ids,
            share_all=bool(share_all),
            created_by=actor.agent,
        )
        record(
            ticket=ticket,
            actor=actor,
            verb="partner_invited",
            new=ref(partner),
            data={
                "partner": ref(partner),
                "access_id": access.pk,
                "expires_at": access.expires_at.isoformat(),
                "share_all": access.share_all,
                "message_ids": ids,
            },
        )
    return access, token


def partner_revoke(*, actor: Actor, access: PartnerAccess) -> PartnerAccess:
    """End a partner's link now (a second revoke changes nothing)."""
    ticket = Ticket.objects.get(pk=access.ticket_id)
    _seen_ticket(actor, ticket, Perm.TICKET_UPDATE)
    with transaction.atomic():
        changed = PartnerAccess.objects.filter(pk=access.pk, revoked_at__isnull=True).update(revoked_at=now())
        access.refresh_from_db(fields=["revoked_at"])
        if changed:
            partner = Partner.objects.get(pk=access.partner_id)
            record(
                ticket=ticket,
                actor=actor,
                verb="partner_revoked",
                old=ref(partner),
                data={"partner": ref(partner), "access_id": access.pk},
            )
    return access


def partner_link(token: str) -> str:
    """The partner's URL of a token (absolute when PIVOTDESK_BASE_URL is set), for the agent to pass on."""
    return absolute_url(reverse("partner:page", args=[token]))


# --- the link (the partner, no sign-in) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedFile:
    id: int
    filename: str
    size: int


@dataclass(frozen=True)
class SharedMessage:
    id: int
    kind: str
    author: str
    body_text: str
    created_at: dt.datetime
    from_partner: bool
    files: tuple[SharedFile, ...]


@dataclass(frozen=True)
class PartnerTicketView:
    """What the link shows: the ticket's subject and status and the shared conversation, nothing else."""

    access: PartnerAccess
    partner_name: str
    language: str
    number: int
    subject: str
    status: str
    closed: bool
    messages: tuple[SharedMessage, ...]
    parts_dispatched_at: dt.datetime | None
    expires_at: dt.datetime


def _link_gone() -> NotFound:
    return NotFound(
        gettext("This link is not valid: it may have expired or been withdrawn."), code=OncallErrorCode.LINK_INVALID
    )


def partner_access(token: str) -> PartnerAccess:
    """The live access of a token, else NotFound: unknown, expired, revoked and switched-off partners look alike."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise _link_gone()
    access = (
        PartnerAccess.objects.select_related("partner", "ticket")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, expires_at__gt=now(), partner__is_active=True)
        .first()
    )
    if access is None or access.ticket.workspace_id != access.workspace_id:
        raise _link_gone()
    return access


def _partner_actor(access: PartnerAccess) -> Actor:
    return Actor.system(access.partner.name[:200])


def shared_messages(access: PartnerAccess) -> QuerySet[Message]:
    """The messages the link shows: all public ones (share_all) or the chosen ones, and the partner's own posts."""
    shown = Q(pk__in=[int(i) for i in access.shared_message_ids or [] if isinstance(i, int)])
    if access.share_all:
        shown |= Q(kind=MessageKind.PUBLIC)
    shown |= Q(metadata__partner_access_id=access.pk)
    return Message.objects.filter(shown, workspace_id=access.workspace_id, ticket_id=access.ticket_id).filter(
        kind__in=REPLY_KINDS
    )


def partner_view(token: str) -> PartnerTicketView:
    """The ticket as the partner sees it."""
    access = partner_access(token)
    rows = list(
        shared_messages(access)
        .select_related("author_agent__user", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    messages = tuple(
        SharedMessage(
            id=m.pk,
            kind=m.kind,
            author=m.author_name,
            body_text=m.body_text,
            created_at=m.created_at,
            from_partner=(m.metadata or {}).get("partner_access_id") == access.pk,
            files=tuple(
                SharedFile(id=a.pk, filename=a.filename, size=a.size)
                for a in sorted(m.attachments.all(), key=lambda a: a.pk)
            ),
        )
        for m in rows
    )
    ticket = access.ticket
    return PartnerTicketView(
        access=access,
        partner_name=access.partner.name,
        language=access.partner.language,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        closed=ticket.status == Status.CLOSED or ticket.merged_into_id is not None,
        messages=messages,
        parts_dispatched_at=access.parts_dispatched_at,
        expires_at=access.expires_at,
    )


def partner_attachment(token: str, attachment_id: int) -> Attachment:
    """A file of a shared message of the link's ticket, else NotFound (other tickets' and workspaces' look alike)."""
    access = partner_access(token)
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        workspace_id=access.workspace_id,
        ticket_id=access.ticket_id,
        message__in=shared_messages(access).values("pk"),
    ).first()
    if attachment is None:
        raise NotFound(gettext("Attachment not found."), code=OncallErrorCode.NOT_FOUND)
    return attachment


def partner_reply(token: str, body: str, kind: str = MessageKind.PUBLIC, files: Sequence[FileInput] = ()) -> Message:
    """Post the partner's reply (public: in the conversation; note: for the agents only) with files, labelled with
    the partner's name. It is not sent to the customer: the channels send agents' and bots' replies only."""
    access = partner_access(token)
    if kind not in REPLY_KINDS:
        raise _invalid(gettext("A partner writes a reply or a note."), "kind")
    body = (body or "").strip()
    if len(body) > MAX_REPLY_CHARS:
        raise _invalid(gettext("A reply is at most %(n)s characters.") % {"n": f"{MAX_REPLY_CHARS:,}"}, "body")
    if len(files) > MAX_FILES:
        raise _invalid(gettext("At most %(n)s files can be attached.") % {"n": MAX_FILES}, "files")
    if not body and not files:
        raise _invalid(gettext("Write a reply or attach a file."), "body")
    ticket = access.ticket
    if ticket.status == Status.CLOSED or ticket.merged_into_id is not None:
        raise Conflict(gettext("This ticket is closed."), code=OncallErrorCode.WRONG_STATE)
    return message_create(
        ticket=ticket,
        actor=_partner_actor(access),
        body=body,
        kind=kind,
        metadata={"partner_id": access.partner_id, "partner_access_id": access.pk},
        attachments=[(name, content, content_type) for name, content, content_type in files],
    )


def partner_parts_dispatched(token: str) -> PartnerAccess:
    """Mark the spare parts as sent (once: a second mark keeps the first time and records nothing)."""
    access = partner_access(token)
    at = now()
    with transaction.atomic():
        if PartnerAccess.objects.filter(pk=access.pk, parts_dispatched_at__isnull=True).update(parts_dispatched_at=at):
            access.parts_dispatched_at = at
            record(
                ticket=access.ticket,
                actor=_partner_actor(access),
                verb="partner_parts_dispatched",
                data={"partner": ref(access.partner), "access_id": access.pk},
            )
        else:
            access.refresh_from_db(fields=["parts_dispatched_at"])
    return access


def partner_acknowledge(token: str) -> PartnerAccess:
    """The partner has seen the ticket and takes it on: an open page of the ticket stops escalating (acknowledged
    by the partner), and the timeline says so."""
    from pivotdesk.oncall.services.paging import acknowledge_by_partner

    access = partner_access(token)
    if not acknowledge_by_partner(ticket=access.ticket, partner=access.partner):
        record(
            ticket=access.ticket,
            actor=_partner_actor(access),
            verb="partner_acknowledged",
            data={"partner": ref(access.partner), "access_id": access.pk},
        )
    return access


def page_partner(*, page: Any, partner: Partner, ack_token: str) -> PartnerAccess:
    """A partner level of an escalation policy: give the partner a link to the ticket (its public conversation) and
    send it to the partner's e-mail addresses and apprise targets after commit (a failed send is logged; the link
    is also on the ticket's timeline for the agent to pass on)."""
    from pivotdesk.notifications import senders

    token = secrets.token_urlsafe(32)
    access = PartnerAccess.objects.create(
        workspace_id=page.workspace_id,
        partner=partner,
        ticket=page.ticket,
        token_hash=_hash(token),
        expires_at=now() + dt.timedelta(hours=24),
        share_all=True,
    )
    record(
        ticket=page.ticket,
        actor=Actor.system("on-call"),
        verb="partner_invited",
        data={"partner": ref(partner), "access_id": access.pk, "paged": True},
    )
    url = partner_link(token)
    with translation.override(partner.language or "zh-hans"):
        title = gettext("Urgent ticket #%(number)s: %(subject)s") % {
            "number": page.ticket.number,
            "subject": page.ticket.subject,
        }
        body = gettext("Open the ticket and acknowledge it: %(url)s") % {"url": url}

    def send() -> None:
        for address in partner.emails:
            ok, error = senders.send_email(to=address, subject=title, body=body)
            if not ok:
                log.warning("on-call: e-mail to partner %s failed: %s", partner.pk, error)
        for target in partner.targets:
            ok, error = senders.send_apprise(url=target, title=title, body=body, timeout=10.0)
            if not ok:
                log.warning("on-call: apprise to partner %s failed: %s", partner.pk, error)

    transaction.on_commit(send)
    return access
