"""Reads for contacts and organizations, always scoped to a workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.domain.duplicates import (
    email_lookalike_anchors,
    name_key,
    same_phone,
    similar_emails,
    split_email,
)
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization


def contact_list(
    *, workspace: Workspace, q: str = "", organization_id: int | None = None, include_merged: bool = False
) -> QuerySet[Contact]:
    """Contacts of the workspace, searchable by name, email, phone or any identity."""
    qs = Contact.objects.filter(workspace=workspace).select_related("organization")
    if not include_merged:
        qs = qs.filter(merged_into__isnull=True)
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q) | Q(identities__value__icontains=q)
        ).distinct()
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.prefetch_related("identities").order_by("name", "pk")


def access_contact(*, workspace: Workspace, contact_id: int) -> Contact:
    """A contact of this workspace by id, else NotFound."""
    contact = (
        Contact.objects.select_related("organization")
        .prefetch_related("identities")
        .filter(workspace=workspace, pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(gettext("Contact not found."))
    return contact


def organization_list(*, workspace: Workspace, q: str = "") -> QuerySet[CustomerOrganization]:
    """Organizations of the workspace by name, optionally searched by name."""
    qs = CustomerOrganization.objects.filter(workspace=workspace)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("name")


def organization_directory(*, workspace: Workspace, q: str = "", tier: str = "") -> QuerySet[CustomerOrganization]:
    """The organizations list of the agent's screens: searched by name, email domain or tag, filtered by tier, with
    their account manager and the number of (unmerged) contacts."""
    qs = CustomerOrganization.objects.filter(workspace=workspace).select_related("account_manager__user")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(domains__icontains=q) | Q(tags__icontains=q))
    if tier:
        qs = qs.filter(tier=tier)
    contacts = Count("contacts", filter=Q(contacts__merged_into__isnull=True), distinct=True)
    return qs.annotate(contact_count=contacts).order_by("name", "pk")


def organization_contacts(*, organization: CustomerOrganization, limit: int = 200) -> list[Contact]:
    """The organization's contacts (not merged away), with their identities."""
    qs = Contact.objects.filter(
        workspace_id=organization.workspace_id, organization=organization, merged_into__isnull=True
    )
    return list(qs.prefetch_related("identities").order_by("name", "pk")[:limit])


def access_organization(*, workspace: Workspace, organization_id: int) -> CustomerOrganization:
    """An organization of this workspace by id, else NotFound."""
    org = (
        CustomerOrganization.objects.select_related("account_manager__user")
        .filter(workspace=workspace, pk=organization_id)
        .first()
    )
    if org is None:
        raise NotFound(gettext("Organization not found."))
    return org


@dataclass(frozen=True)
class DuplicateSuggestion:
    """Another contact that is probably the same person, and why (reason codes, see `probable_duplicates`)."""

    contact: Contact
    reasons: tuple[str, ...]


DUPLICATE_SCAN_LIMIT = 2000
ORGANIZATION_SCAN_LIMIT = 20000


def _same_name_in_organization(*, workspace: Workspace, contact: Contact, key: str) -> list[int]:
    """The organization's other contacts with the same loose name: their names compared here (only the names are
    read), so a big customer's thousands of contacts never become candidates to load."""
    names = (
        Contact.objects.filter(workspace=workspace, organization_id=contact.organization_id, merged_into__isnull=True)
        .exclude(pk=contact.pk)
        .values_list("pk", "name")[:ORGANIZATION_SCAN_LIMIT]
    )
    return [pk for pk, name in names if name_key(name) == key]


def _lookalike_emails(*, workspace: Workspace, contact: Contact, emails: set[str]) -> list[int]:
    """Contacts whose address is within two edits of one of `emails`: the anchors narrow the search in the query,
    the addresses alone are read and compared here, and only the look-alikes go on to be loaded."""
    near = Q()
    for email in emails:
        anchors = email_lookalike_anchors(email)
        if anchors is None:
            continue
        start = Q(email__istartswith=anchors.prefix)
        if anchors.suffix:
            start |= Q(email__iendswith=anchors.suffix)
        near |= start & Q(email_length__gte=anchors.shortest, email_length__lte=anchors.longest)
    if not near:
        return []
    rows = (
        Contact.objects.filter(workspace=workspace, merged_into__isnull=True)
        .exclude(pk=contact.pk)
        .alias(email_length=Length("email"))
        .filter(near)
        .values_list("pk", "email")[:DUPLICATE_SCAN_LIMIT]
    )
    return [pk for pk, other in rows if any(similar_emails(email, other.lower()) for email in emails)]


def probable_duplicates(*, workspace: Workspace, contact: Contact, limit: int = 10) -> list[DuplicateSuggestion]:
    """Contacts of the workspace that are probably the same person as `contact` (never merged ones, never itself).
    Reasons: "name_and_organization" (same normalised name and organization), "email_local_part" (same address
    before the @ on another domain), "similar_email" (edit distance ≤ 2, looked for by `email_lookalike_anchors`),
    "phone" (same phone digits). Shown on every ticket page, so the candidates are narrowed in the query: the cost
    follows how many look-alikes there are, not how many customers share a mail domain or an organization."""
    emails = {contact.email.lower()} if contact.email else set()
    phones = {contact.phone} if contact.phone else set()
    for kind, value in ChannelIdentity.objects.filter(contact=contact, kind__in=("email", "phone")).values_list(
        "kind", "value"
    ):
        (emails if kind == "email" else phones).add(value.lower() if kind == "email" else value)
    key = name_key(contact.name)
    query = Q()
    if key and contact.organization_id:
        same_name = _same_name_in_organization(workspace=workspace, contact=contact, key=key)
        if same_name:
            query |= Q(pk__in=same_name)
    for email in emails:
        local, _domain = split_email(email)
        if local:
            query |= Q(email__istartswith=f"{local}@")
    lookalikes = _lookalike_emails(workspace=workspace, contact=contact, emails=emails)
    if lookalikes:
        query |= Q(pk__in=lookalikes)
    for phone in phones:
        tail = "".join(ch for ch in phone if ch.isdigit())[-7:]
        if len(tail) == 7:  # the last 7 digits, whatever separators a stored number has between them
            pattern = r"\D*".join(tail) + r"\D*$"
            query |= Q(phone__regex=pattern) | Q(identities__kind="phone", identities__value__contains=tail)
    if not query:
        return []
    candidates = (
        Contact.objects.filter(workspace=workspace, merged_into__isnull=True)
        .filter(query)
        .exclude(pk=contact.pk)
        .select_related("organization")
        .prefetch_related("identities")
        .distinct()
        .order_by("pk")[:DUPLICATE_SCAN_LIMIT]
    )
    found: list[DuplicateSuggestion] = []
    for other in candidates:
        other_emails = {other.email.lower()} if other.email else set()
        other_phones = {other.phone} if other.phone else set()
        for identity in other.identities.all():
            if identity.kind == "email":
                other_emails.add(identity.value.lower())
            elif identity.kind == "phone":
                other_phones.add(identity.value)
        reasons: list[str] = []
        same_org = bool(contact.organization_id) and other.organization_id == contact.organization_id
        if key and same_org and name_key(other.name) == key:
            reasons.append("name_and_organization")
        pairs = [(a, b) for a in emails for b in other_emails if a != b]
        if any(split_email(a)[0] == split_email(b)[0] for a, b in pairs):
            reasons.append("email_local_part")
        elif any(similar_emails(a, b) for a, b in pairs):
            reasons.append("similar_email")
        if any(same_phone(a, b) for a in phones for b in other_phones):
            reasons.append("phone")
        if reasons:
            found.append(DuplicateSuggestion(contact=other, reasons=tuple(reasons)))
    found.sort(key=lambda s: (-len(s.reasons), s.contact.pk))
    return found[:limit]
