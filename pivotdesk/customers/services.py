"""Writes for organizations, contacts and channel identities, including contact merge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.customers.domain.identity import IdentityError, normalize_identity
from pivotdesk.customers.errors import CustomerErrorCode
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
    actor: Actor,
    name: str,
    tier: str = Tier.STANDARD,
    domains: list[str] | None = None,
    account: dict[str, Any] | None = None,
    external_id: str = "",
    notes: str = "",
) -> CustomerOrganization:
    """Create a customer organization."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=workspace.pk)
    name = name.strip()
    if not name:
        raise ValidationFailed(gettext("An organization needs a name."))
    if tier not in Tier.values:
        raise ValidationFailed(gettext("Unknown tier '%(tier)s'.") % {"tier": tier}, details={"allowed": Tier.values})
    if CustomerOrganization.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(
            gettext("An organization named '%(name)s' already exists.") % {"name": name},
            code=CustomerErrorCode.ORGANIZATION_EXISTS,
        )
    return CustomerOrganization.objects.create(
        workspace=workspace,
        name=name,
        tier=tier,
        domains=[d.lower().strip() for d in domains or []],
        account=account or {},
        external_id=external_id,
        notes=notes,
    )


def organization_update(*, organization: CustomerOrganization, actor: Actor, **fields: Any) -> CustomerOrganization:
    """Update an organization's name, tier, domains, account data or notes."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=organization.workspace_id)
    allowed = {"name", "tier", "domains", "account", "external_id", "notes"}
    if set(fields) - allowed:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(fields) - allowed))}
        )
    if "tier" in fields and fields["tier"] not in Tier.values:
        raise ValidationFailed(
            gettext("Unknown tier '%(tier)s'.") % {"tier": fields["tier"]}, details={"allowed": Tier.values}
        )
    if "name" in fields:
        name = str(fields["name"]).strip()
        clash = CustomerOrganization.objects.filter(workspace_id=organization.workspace_id, name=name)
        if not name or clash.exclude(pk=organization.pk).exists():
            raise ValidationFailed(gettext("The name '%(name)s' is empty or already used.") % {"name": name})
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
    actor: Actor,
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
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=workspace.pk)
    if organization is not None and organization.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("The organization belongs to another workspace."))
    if tier and tier not in Tier.values:
        raise ValidationFailed(gettext("Unknown tier '%(tier)s'.") % {"tier": tier}, details={"allowed": Tier.values})
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
        raise ValidationFailed(gettext(exc.template) % exc.params, code=CustomerErrorCode.INVALID_IDENTITY) from exc
    if not (name or pairs):
        raise ValidationFailed(gettext("A contact needs a name or at least one identity (email, phone, …)."))
    for kind, value in pairs:
        owner = ChannelIdentity.objects.filter(workspace=workspace, kind=kind, value=value).first()
        if owner is not None:
            raise Conflict(
                gettext("%(kind)s '%(value)s' already belongs to contact #%(contact_id)s.")
                % {"kind": kind, "value": value, "contact_id": owner.contact_id},
                code=CustomerErrorCode.IDENTITY_TAKEN,
            )
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
        ChannelIdentity.objects.create(workspace=workspace, contact=contact, kind=kind, value=value, last_seen_at=now())
    publish("contact.created", workspace_id=workspace.pk, contact_id=contact.pk)
    return contact


def contact_update(*, contact: Contact, actor: Actor, **fields: Any) -> Contact:
    """Update a contact's name, organization, tier, language, time zone or notes."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    allowed = {"name", "organization", "tier", "language", "time_zone", "notes"}
    if set(fields) - allowed:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(fields) - allowed))}
        )
    org = fields.get("organization")
    if org is not None and org.workspace_id != contact.workspace_id:
        raise ValidationFailed(gettext("The organization belongs to another workspace."))
    if fields.get("tier") and fields["tier"] not in Tier.values:
        raise ValidationFailed(gettext("Unknown tier '%(tier)s'.") % {"tier": fields["tier"]})
    for key, value in fields.items():
        setattr(contact, key, value)
    contact.save()
    publish("contact.updated", workspace_id=contact.workspace_id, contact_id=contact.pk)
    return contact


@transaction.atomic
def identity_attach(*, contact: Contact, actor: Actor, kind: str, value: str) -> ChannelIdentity:
    """Attach an identity to a contact; refused when it already belongs to another contact (merge instead)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    try:
        value = normalize_identity(kind, value)
    except IdentityError as exc:
        raise ValidationFailed(gettext(exc.template) % exc.params, code=CustomerErrorCode.INVALID_IDENTITY) from exc
    existing = ChannelIdentity.objects.filter(workspace_id=contact.workspace_id, kind=kind, value=value).first()
    if existing is not None:
        if existing.contact_id == contact.pk:
            return existing
        raise Conflict(
            gettext("%(kind)s '%(value)s' belongs to contact #%(contact_id)s; merge the contacts instead.")
            % {"kind": kind, "value": value, "contact_id": existing.contact_id},
            code=CustomerErrorCode.IDENTITY_TAKEN,
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


def contact_resolve(*, workspace: Workspace, actor: Actor, kind: str, value: str, name: str = "") -> Contact:
    """The contact behind an identity, created if new. An email or phone seen on any channel resolves to the same
    contact; a merged contact resolves to its survivor. No transaction of its own: a known identity is one read
    (SQLite's IMMEDIATE transactions would take the write lock for it), and `contact_create` is atomic."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=workspace.pk)
    name = name.strip()[: Contact._meta.get_field("name").max_length or 200]  # a sender's display name: never fatal
    try:
        value = normalize_identity(kind, value)
    except IdentityError as exc:
        raise ValidationFailed(gettext(exc.template) % exc.params, code=CustomerErrorCode.INVALID_IDENTITY) from exc
    contact = _known_contact(workspace, kind, value, name)
    if contact is not None:
        return contact
    email = value if kind == "email" else ""
    phone = value if kind == "phone" else ""
    others = [] if kind in ("email", "phone") else [(kind, value)]
    try:  # contact_create is atomic (a savepoint inside a caller's transaction): a failed insert leaves no trace
        return contact_create(workspace=workspace, actor=actor, name=name, email=email, phone=phone, identities=others)
    except (IntegrityError, Conflict):
        # Another request created this identity between our look-up and our insert (two mails or API calls from a
        # new customer at once): it is that contact.
        contact = _known_contact(workspace, kind, value, name)
        if contact is None:
            raise
        return contact


#: How stale an identity's `last_seen_at` may get before a resolve writes it again: a burst from one customer (a
#: mail thread, an API batch) costs one write, and chat presence (which reads it) stays exact to half a minute.
LAST_SEEN_GRANULARITY = dt.timedelta(seconds=30)


def _known_contact(workspace: Workspace, kind: str, value: str, name: str) -> Contact | None:
    """The (surviving) contact of an existing identity, or None."""
    identity = (
        ChannelIdentity.objects.select_related("contact").filter(workspace=workspace, kind=kind, value=value).first()
    )
    if identity is None:
        return None
    at = now()
    if identity.last_seen_at is None or at - identity.last_seen_at >= LAST_SEEN_GRANULARITY:
        ChannelIdentity.objects.filter(pk=identity.pk).update(last_seen_at=at)
    contact = identity.contact
    while contact.merged_into_id is not None:
        contact = Contact.objects.get(pk=contact.merged_into_id)
    if name and not contact.name:
        contact.name = name
        contact.save(update_fields=["name", "updated_at"])
    return contact


@transaction.atomic
def contact_merge(*, source: Contact, target: Contact, actor: Actor) -> Contact:
    """Merge `source` into `target`: identities, tickets and history move; the source keeps a pointer."""
    authorize(actor, Perm.CONTACT_MERGE, workspace_id=source.workspace_id)
    if source.pk == target.pk:
        raise ValidationFailed(gettext("A contact cannot be merged into itself."))
    if source.workspace_id != target.workspace_id:
        raise ValidationFailed(gettext("Contacts of different workspaces cannot be merged."))
    if source.merged_into_id is not None:
        raise Conflict(
            gettext("Contact #%(pk)s was already merged into #%(merged_into_id)s.")
            % {"pk": source.pk, "merged_into_id": source.merged_into_id},
            code=CustomerErrorCode.ALREADY_MERGED,
        )
    if target.merged_into_id is not None:
        raise Conflict(
            gettext("Contact #%(pk)s was merged into #%(merged_into_id)s; merge into that one.")
            % {"pk": target.pk, "merged_into_id": target.merged_into_id},
            code=CustomerErrorCode.ALREADY_MERGED,
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
