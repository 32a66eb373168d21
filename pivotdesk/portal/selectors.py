"""What the portal reads, always for one customer of one workspace.

A customer (the `Viewer`) sees the requests they opened, or, as an organization's manager, that organization's;
someone who arrived by a signed ticket link sees that ticket alone. Every lookup by number or id goes through an
`access_*` helper that answers 404 (`NotFound`) for anything else — another customer's request, another
workspace's, an attachment of an internal note — with the same wording, so nothing tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.domain.identity import IdentityError, normalize_email, normalize_phone
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization
from pivotdesk.portal.models import (
    CustomerNotice,
    CustomerPreference,
    NoticeChannel,
    OrganizationManager,
    PortalTheme,
)
from pivotdesk.tickets.models import Attachment, AuthorType, Message, MessageKind, Status, Ticket

OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Viewer:
    """The customer reading the portal: a contact of a workspace; `ticket_ids` limits a ticket-link visitor."""

    workspace_id: int
    contact_id: int
    ticket_ids: tuple[int, ...] | None = None  # None: every request the contact may see

    @property
    def signed_in(self) -> bool:
        """Signed in by a magic link or a code (not only following one ticket's link)."""
        return self.ticket_ids is None


def _gone() -> NotFound:
    return NotFound(_("This request does not exist or is not yours."))


def workspace_by_slug(slug: str) -> Workspace:
    """The workspace of a portal URL; 404 for an unknown slug."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise NotFound(_("There is no support portal at this address."))
    return workspace


def contact_of(viewer: Viewer) -> Contact:
    contact = Contact.objects.filter(pk=viewer.contact_id, workspace_id=viewer.workspace_id).first()
    if contact is None or contact.merged_into_id is not None:
        raise _gone()
    return contact


def contact_for_address(*, workspace: Workspace, address: str) -> tuple[Contact | None, str]:
    """The contact an e-mail address or phone number belongs to (None when nobody), and the kind ("email" or
    "phone", "" when the input is neither). A merged contact leads to the one it was merged into."""
    value = (address or "").strip()
    if "@" in value:
        try:
            email = normalize_email(value)
        except (IdentityError, ValueError):
            return None, ""
        contact = _follow(
            Contact.objects.filter(workspace=workspace, email__iexact=email).order_by("merged_into", "pk").first()
        ) or _by_identity(workspace, "email", email)
        return contact, "email"
    try:
        phone = normalize_phone(value)
    except (IdentityError, ValueError):
        return None, ""
    contact = _follow(
        Contact.objects.filter(workspace=workspace, phone=phone).order_by("merged_into", "pk").first()
    ) or _by_identity(workspace, "phone", phone)
    return contact, "phone"


def _by_identity(workspace: Workspace, kind: str, value: str) -> Contact | None:
    identity = ChannelIdentity.objects.filter(workspace=workspace, kind=kind, value=value).select_related("contact")
    found = identity.first()
    return _follow(found.contact) if found is not None else None


def _follow(contact: Contact | None) -> Contact | None:
    for _hop in range(5):
        if contact is None or contact.merged_into_id is None:
            return contact
        contact = Contact.objects.filter(pk=contact.merged_into_id).first()
    return contact


def managed_organizations(*, viewer: Viewer) -> list[CustomerOrganization]:
    """The organizations whose requests this customer manages (none for a ticket-link visitor)."""
    if not viewer.signed_in:
        return []
    ids = OrganizationManager.objects.filter(workspace_id=viewer.workspace_id, contact_id=viewer.contact_id)
    return list(
        CustomerOrganization.objects.filter(
            workspace_id=viewer.workspace_id, pk__in=ids.values("organization_id")
        ).order_by("name")
    )


def _reachable(viewer: Viewer) -> Q:
    if viewer.ticket_ids is not None:
        return Q(pk__in=viewer.ticket_ids, requester_id=viewer.contact_id)
    managed = OrganizationManager.objects.filter(workspace_id=viewer.workspace_id, contact_id=viewer.contact_id)
    return Q(requester_id=viewer.contact_id) | Q(organization_id__in=managed.values("organization_id"))


def ticket_list(*, viewer: Viewer, state: str = "open", scope: str = "mine") -> QuerySet[Ticket]:
    """The customer's requests, newest activity first: `state` open | solved | all; `scope` mine | organization."""
    qs = Ticket.objects.filter(workspace_id=viewer.workspace_id, merged_into__isnull=True)
    if scope == "organization" and viewer.signed_in:
        managed = OrganizationManager.objects.filter(workspace_id=viewer.workspace_id, contact_id=viewer.contact_id)
        qs = qs.filter(organization_id__in=managed.values("organization_id"))
    else:
        qs = qs.filter(_reachable(viewer) & Q(requester_id=viewer.contact_id))
    if state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif state == "solved":
        qs = qs.filter(status__in=DONE_STATUSES)
    return qs.select_related("requester", "custom_status", "team").order_by("-updated_at", "-pk")


def access_ticket(*, viewer: Viewer, number: int) -> Ticket:
    """A request by its number, if this customer may read it; 404 otherwise (another customer's, another
    workspace's, merged away, or outside a ticket link's reach)."""
    ticket = (
        Ticket.objects.filter(workspace_id=viewer.workspace_id, number=number, merged_into__isnull=True)
        .filter(_reachable(viewer))
        .select_related("requester", "custom_status", "team", "workspace")
        .first()
    )
    if ticket is None:
        raise _gone()
    return ticket


def public_messages(*, ticket: Ticket) -> QuerySet[Message]:
    """The conversation a customer sees: public messages only (never internal notes or system entries)."""
    return (
        Message.objects.filter(ticket=ticket, workspace_id=ticket.workspace_id, kind=MessageKind.PUBLIC)
        .exclude(author_type=AuthorType.SYSTEM)
        .select_related("author_agent__user", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def access_attachment(*, ticket: Ticket, attachment_id: int) -> Attachment:
    """A file of a public message of this ticket; 404 for a note's file, a ticket-level file or anything else."""
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        ticket=ticket,
        workspace_id=ticket.workspace_id,
        message__kind=MessageKind.PUBLIC,
    ).first()
    if attachment is None:
        raise NotFound(_("This file does not exist or is not yours."))
    return attachment


def theme_for(*, workspace: Workspace) -> PortalTheme:
    """The workspace's portal theme (an unsaved default when none was set)."""
    return PortalTheme.objects.filter(workspace=workspace).first() or PortalTheme(workspace=workspace)


def workspace_for_domain(host: str) -> Workspace | None:
    """The workspace whose portal answers on this custom domain, if any."""
    host = (host or "").split(":", 1)[0].strip().lower()
    theme = PortalTheme.objects.filter(custom_domain=host).select_related("workspace").first() if host else None
    return theme.workspace if theme is not None else None


def preference_for(*, contact: Contact) -> CustomerPreference:
    """A customer's notice settings (an unsaved default when never changed)."""
    found = CustomerPreference.objects.filter(contact=contact).first()
    return found or CustomerPreference(workspace_id=contact.workspace_id, contact=contact)


def contact_language(contact: Contact, workspace: Workspace | None = None) -> str:
    """The language to write to a customer in: their portal choice, the contact's language, the workspace's."""
    pref = CustomerPreference.objects.filter(contact=contact).values_list("language", flat=True).first()
    chosen = pref or contact.language or (workspace.default_language if workspace else "") or "zh-hans"
    return "zh-hans" if chosen.lower().startswith("zh") else "en"


def organization_managers(*, workspace: Workspace) -> QuerySet[OrganizationManager]:
    """Every organization manager of the workspace (the admin screen)."""
    return (
        OrganizationManager.objects.filter(workspace=workspace)
        .select_related("contact", "organization")
        .order_by("organization__name", "contact__name", "pk")
    )


def notice_account(*, workspace_id: int, kind: str, ticket: Ticket | None = None) -> ChannelAccount | None:
    """The channel account a notice goes out through: the one the customer's request came in on (as the channels
    outbox chooses), else the workspace's first active account of that kind."""
    qs = ChannelAccount.objects.filter(workspace_id=workspace_id, kind=kind, active=True)
    if ticket is not None:
        first = (
            Message.objects.filter(ticket=ticket, author_type=AuthorType.CONTACT)
            .order_by("pk")
            .values_list("metadata", flat=True)
            .first()
        )
        account_id = first.get("channel_account_id") if isinstance(first, dict) else None
        if account_id:
            chosen = qs.filter(pk=account_id).first()
            if chosen is not None:
                return chosen
    return qs.order_by("pk").first()


def notice_route(*, contact: Contact, channel: str = NoticeChannel.AUTO) -> tuple[str, str]:
    """(channel, recipient) a notice to this customer takes: their chosen channel when they have an address for
    it, else e-mail, else SMS; ("", "") when the customer can be reached by neither."""
    email = contact.email or _identity(contact, "email")
    phone = contact.phone or _identity(contact, "phone")
    if channel == NoticeChannel.SMS and phone:
        return "sms", phone
    if email:
        return "email", email
    if phone:
        return "sms", phone
    return "", ""


def _identity(contact: Contact, kind: str) -> str:
    value = (
        ChannelIdentity.objects.filter(contact=contact, kind=kind)
        .order_by("-last_seen_at", "pk")
        .values_list("value", flat=True)
        .first()
    )
    return value or ""


def access_manager(*, workspace: Workspace, manager_id: int) -> OrganizationManager:
    """An organization manager of this workspace by id, else 404."""
    found = OrganizationManager.objects.filter(workspace=workspace, pk=manager_id).first()
    if found is None:
        raise NotFound(_("Not found: it does not exist, or it belongs to another workspace."))
    return found


def recent_notices(*, workspace: Workspace, limit: int = 30) -> list[CustomerNotice]:
    """The workspace's latest customer notices with their delivery status (the settings page's log)."""
    return list(
        CustomerNotice.objects.filter(workspace=workspace).select_related("contact", "ticket").order_by("-pk")[:limit]
    )


def access_notice(*, workspace: Workspace, notice_id: int) -> CustomerNotice:
    """A customer notice of this workspace by id, else 404."""
    found = CustomerNotice.objects.filter(workspace=workspace, pk=notice_id).first()
    if found is None:
        raise NotFound(_("Not found: it does not exist, or it belongs to another workspace."))
    return found
