"""Writes for organizations, contacts and channel identities, including contact merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.customers.domain.identity import IdentityError, normalize_identity
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization, Tier

# Apps above `customers` (tickets, …) move their own rows when contacts merge. They register here at start-up;
# the handlers run inside the merge transaction, so a merge is all or nothing.
ContactMergeHandler = Callable[[Contact, Contact, Actor], None]
_merge_handlers: list[ContactMergeHandler] = []


def register_contact_merge_handler(handler: ContactMergeHandler) -> None:
    """Called by a higher app's AppConfig.ready() to take part in contact merges."""
    if handler not in _merge_handlers:
        _merge_handlers.append(handler)


def organization_create(
    *,
    workspace: Workspace,
    name: str,
    tier: str = Tier.STANDARD,
    domains: list[str] | None = None,
    account: dict[str, Any] | None = None,
    external_id: str = "",
    notes: str = "",
) -> CustomerOrganization:
    """Create a customer organization."""
    name = name.strip()
    if not name:
        raise ValidationFailed("An organization needs a name.")
    if tier not in Tier.values:
        raise ValidationFailed(f"Unknown tier '{tier}'.", details={"allowed": Tier.values})
    if CustomerOrganization.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(f"An organization named '{name}' already exists.", code="organization_exists")
    return CustomerOrganization.objects.create(
        workspace=workspace,
        name=name,
        tier=tier,
        domains=[d.lower().strip() for d in domains or []],
        account=account or {},
        external_id=external_id,
        notes=notes,
    )


def organization_update(*, organization: CustomerOrganization, **fields: Any) -> CustomerOrganization:
    """Update an organization's name, tier, domains, account data or notes."""
    allowed = {"name", "tier", "domains", "account", "external_id", "notes"}
    if set(fields) - allowed:
        raise ValidationFailed(f"Cannot update: {', '.join(sorted(set(fields) - allowed))}.")
    if "tier" in fields and fields["tier"] not in Tier.values:
        raise ValidationFailed(f"Unknown tier '{fields['tier']}'.", details={"allowed": Tier.values})
    if "name" in fields:
        name = str(fields["name"]).strip()
        clash = CustomerOrganization.objects.filter(workspace_id=organization.workspace_id, name=name)
        if not name or clash.exclude(pk=organization.pk).exists():
            raise ValidationFailed(f"The name '{name}' is empty or already used.")
        fields["name"] = name
    with transaction.atomic():
        for key, value in fields.items():
            setattr(organization, key, value)
        organization.save()
        publish(
            "organization.updated",
            workspace_id=organization.workspace_id,
            organization_id=organization.pk,
            fields=sorted(fields),
        )
    return organization


def _organization_for_email(workspace: Workspace, email: str) -> CustomerOrganization | None:
    domain = email.rsplit("@", 1)[-1]
    for org in CustomerOrganization.objects.filter(workspace=workspace).exclude(domains=[]):
        if domain in (org.domains or []):
            return org
    return None


@transaction.atomic
def contact_create(
    *,
    workspace: Workspace,
    name: str = "",
    email: str = "",
    phone: str = "",
    organization: CustomerOrganization | None = None,
    language: str = "",
    tier: str = "",
    notes: str = "",
    identities: list[tuple[str, str]] | None = None,
) -> Contact:
    """Create a contact with its email/phone identities (and any others given as (kind, value) pairs)."""
    if organization is not None and organization.workspace_id != workspace.pk:
        raise ValidationFailed("The organization belongs to another workspace.")
    if tier and tier not in Tier.values:
        raise ValidationFailed(f"Unknown tier '{tier}'.", details={"allowed": Tier.values})
    pairs: list[tuple[str, str]] = []
    try:
        if email:
            email = normalize_identity("email", email)
            pairs.append(("email", email))
        if phone:
            phone = normalize_identity("phone", phone)
            pairs.append(("phone", phone))
        pairs += [(kind, normalize_identity(kind, value)) for kind, value in identities or []]
    except IdentityError as exc:
        raise ValidationFailed(str(exc)) from exc
    if not (name or pairs):
        raise ValidationFailed("A contact needs a name or at least one identity (email, phone, …).")
    for kind, value in pairs:
        owner = ChannelIdentity.objects.filter(workspace=workspace, kind=kind, value=value).first()
        if owner is not None:
            raise Conflict(f"{kind} '{value}' already belongs to contact #{owner.contact_id}.", code="identity_taken")
    if organization is None and email:
        organization = _organization_for_email(workspace, email)
    contact = Contact.objects.create(
        workspace=workspace,
        name=name.strip(),
        email=email,
        phone=phone,
        organization=organization,
        language=language,
        tier=tier,
        notes=notes,
    )
    for kind, value in pairs:
        ChannelIdentity.objects.create(workspace=workspace, contact=contact, kind=kind, value=value)
    publish("contact.created", workspace_id=workspace.pk, contact_id=contact.pk)
    return contact


def contact_update(*, contact: Contact, **fields: Any) -> Contact:
    """Update a contact's name, organization, tier, language, time zone or notes."""
    allowed = {"name", "organization", "tier", "language", "time_zone", "notes"}
    if set(fields) - allowed:
        raise ValidationFailed(f"Cannot update: {', '.join(sorted(set(fields) - allowed))}.")
    org = fields.get("organization")
    if org is not None and org.workspace_id != contact.workspace_id:
        raise ValidationFailed("The organization belongs to another workspace.")
    if fields.get("tier") and fields["tier"] not in Tier.values:
        raise ValidationFailed(f"Unknown tier '{fields['tier']}'.")
    for key, value in fields.items():
        setattr(contact, key, value)
    contact.save()
    publish("contact.updated", workspace_id=contact.workspace_id, contact_id=contact.pk)
    return contact


@transaction.atomic
def identity_attach(*, contact: Contact, kind: str, value: str) -> ChannelIdentity:
    """Attach an identity to a contact; refused when it already belongs to another contact (merge instead)."""
    try:
        value = normalize_identity(kind, value)
    except IdentityError as exc:
        raise ValidationFailed(str(exc)) from exc
    existing = ChannelIdentity.objects.filter(workspace_id=contact.workspace_id, kind=kind, value=value).first()
    if existing is not None:
        if existing.contact_id == contact.pk:
            return existing
        raise Conflict(
            f"{kind} '{value}' belongs to contact #{existing.contact_id}; merge the contacts instead.",
            code="identity_taken",
        )
    identity = ChannelIdentity.objects.create(
        workspace_id=contact.workspace_id, contact=contact, kind=kind, value=value
    )
    changed = []
    if kind == "email" and not contact.email:
        contact.email = value
        changed.append("email")
    if kind == "phone" and not contact.phone:
        contact.phone = value
        changed.append("phone")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return identity


@transaction.atomic
def contact_resolve(*, workspace: Workspace, kind: str, value: str, name: str = "") -> Contact:
    """The contact behind an identity, created if new. An email or phone seen on any channel resolves to the same
    contact; a merged contact resolves to its survivor."""
    try:
        value = normalize_identity(kind, value)
    except IdentityError as exc:
        raise ValidationFailed(str(exc)) from exc
    identity = (
        ChannelIdentity.objects.select_related("contact").filter(workspace=workspace, kind=kind, value=value).first()
    )
    if identity is not None:
        ChannelIdentity.objects.filter(pk=identity.pk).update(last_seen_at=now())
        contact = identity.contact
        while contact.merged_into_id is not None:
            contact = Contact.objects.get(pk=contact.merged_into_id)
        if name and not contact.name:
            contact.name = name
            contact.save(update_fields=["name", "updated_at"])
        return contact
    email = value if kind == "email" else ""
    phone = value if kind == "phone" else ""
    others = [] if kind in ("email", "phone") else [(kind, value)]
    return contact_create(workspace=workspace, name=name, email=email, phone=phone, identities=others)


@transaction.atomic
def contact_merge(*, source: Contact, target: Contact, actor: Actor) -> Contact:
    """Merge `source` into `target`: identities, tickets and history move; the source keeps a pointer."""
    if source.pk == target.pk:
        raise ValidationFailed("A contact cannot be merged into itself.")
    if source.workspace_id != target.workspace_id:
        raise ValidationFailed("Contacts of different workspaces cannot be merged.")
    if source.merged_into_id is not None:
        raise Conflict(f"Contact #{source.pk} was already merged into #{source.merged_into_id}.", code="already_merged")
    if target.merged_into_id is not None:
        raise Conflict(
            f"Contact #{target.pk} was merged into #{target.merged_into_id}; merge into that one.",
            code="already_merged",
        )
    ChannelIdentity.objects.filter(contact=source).update(contact=target)
    for field in ("name", "email", "phone", "language", "time_zone", "tier"):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
    if target.organization_id is None and source.organization_id is not None:
        target.organization_id = source.organization_id
    if source.notes:
        target.notes = (target.notes + "\n\n" + source.notes).strip()
    target.save()
    for handler in _merge_handlers:
        handler(source, target, actor)
    source.merged_into = target
    source.merged_at = now()
    source.save(update_fields=["merged_into", "merged_at", "updated_at"])
    publish("contact.merged", workspace_id=target.workspace_id, source_id=source.pk, target_id=target.pk)
    return target
