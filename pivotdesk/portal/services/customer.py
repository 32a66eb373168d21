"""What a customer does in the portal, as themselves (`Actor.for_contact`): open a request, reply with files, change
their notice settings. Each service checks the gate (a contact's permissions) and that the actor IS the customer
concerned; replies and requests go through `tickets.services` like any channel's customer message.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.customers.models import Contact
from pivotdesk.portal.models import CustomerPreference, NoticeChannel
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

MAX_BODY = 20_000
MAX_SUBJECT = 200
MAX_FILES = 5
FileInput = tuple[str, bytes, str]  # (filename, content, content type)


def _as_customer(actor: Actor, contact_id: int, perm: Perm, workspace_id: int) -> None:
    authorize(actor, perm, workspace_id=workspace_id)
    if actor.kind != "contact" or actor.contact_id != contact_id:
        raise PermissionDenied(_("Only the customer can do this."), code="not_the_customer")


def _clean_body(body: str) -> str:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise ValidationFailed(_("Write a message."), details={"field": "body"})
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            _("The message is too long (at most %(n)d characters).") % {"n": MAX_BODY}, details={"field": "body"}
        )
    return body


def _check_files(files: Sequence[FileInput]) -> list[FileInput]:
    if len(files) > MAX_FILES:
        raise ValidationFailed(_("Attach at most %(n)d files.") % {"n": MAX_FILES}, details={"field": "files"})
    return list(files)


def portal_reply(*, actor: Actor, ticket: Ticket, body: str, files: Sequence[FileInput] = ()) -> Message:
    """The customer's reply on their request (a public customer message: it reopens a solved request and wakes a
    waiting one, as a reply by mail would)."""
    _as_customer(actor, ticket.requester_id, Perm.TICKET_REPLY_PUBLIC, ticket.workspace_id)
    body = _clean_body(body)
    return ticket_services.message_create(
        ticket=ticket,
        actor=actor,
        body=body,
        as_customer=True,
        channel=Channel.WEB_FORM,
        metadata={"portal": True},
        attachments=_check_files(files),
    )


def portal_request_create(
    *,
    actor: Actor,
    workspace: Workspace,
    contact: Contact,
    subject: str,
    body: str,
    files: Sequence[FileInput] = (),
) -> Ticket:
    """A new request from the portal, opened by the customer with their first message and files."""
    _as_customer(actor, contact.pk, Perm.TICKET_CREATE, workspace.pk)
    subject = (subject or "").replace("\x00", "").strip()
    if not subject:
        raise ValidationFailed(_("Give your request a subject."), details={"field": "subject"})
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed(
            _("The subject is too long (at most %(n)d characters).") % {"n": MAX_SUBJECT},
            details={"field": "subject"},
        )
    body = _clean_body(body)
    files = _check_files(files)
    with transaction.atomic():
        ticket = ticket_services.ticket_create(
            workspace=workspace,
            requester=contact,
            subject=subject,
            body=body,
            actor=actor,
            channel=Channel.WEB_FORM,
            message_metadata={"portal": True},
        )
        if files:
            first = ticket.messages.order_by("pk").first()
            for filename, content, content_type in files:
                ticket_services.attachment_add(
                    ticket=ticket,
                    actor=actor,
                    filename=filename,
                    content=content,
                    content_type=content_type,
                    message=first,
                )
    return ticket


def preference_save(
    *,
    actor: Actor,
    contact: Contact,
    progress_notices: bool | None = None,
    survey_notices: bool | None = None,
    channel: str | None = None,
    language: str | None = None,
) -> CustomerPreference:
    """The customer's own notice settings and language (what is not given stays as it was)."""
    _as_customer(actor, contact.pk, Perm.TICKET_UPDATE, contact.workspace_id)
    if channel is not None and channel not in NoticeChannel.values:
        raise ValidationFailed(_("Choose a channel from the list."), details={"field": "channel"})
    if language is not None and language not in ("", "en", "zh-hans"):
        raise ValidationFailed(_("Choose a language from the list."), details={"field": "language"})
    pref, _created = CustomerPreference.objects.get_or_create(
        contact=contact, defaults={"workspace_id": contact.workspace_id}
    )
    if progress_notices is not None:
        pref.progress_notices = progress_notices
    if survey_notices is not None:
        pref.survey_notices = survey_notices
    if channel is not None:
        pref.channel = channel
    if language is not None:
        pref.language = language
    pref.save()
    return pref


def opt_out_by_link(*, workspace_id: int, contact_id: int) -> CustomerPreference | None:
    """The one-click "stop these notices" of a signed opt-out link (`links.read_opt_out_token` proved it): progress
    notices and survey invitations off. Idempotent."""
    contact = Contact.objects.filter(pk=contact_id, workspace_id=workspace_id).first()
    if contact is None:
        return None
    pref, _created = CustomerPreference.objects.get_or_create(contact=contact, defaults={"workspace_id": workspace_id})
    if pref.progress_notices or pref.survey_notices:
        pref.progress_notices = pref.survey_notices = False
        pref.save(update_fields=["progress_notices", "survey_notices", "updated_at"])
    return pref
