"""Writes for organizations, contacts and channel identities, including contact merge."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.choices import IdentityKind
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.customers.domain.identity import IdentityError, normalize_identity
from pivotdesk.customers.domain.labels import LabelError, clean_domains, clean_tags
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


def _label_error(exc: LabelError) -> ValidationFailed:
    return ValidationFailed(gettext(exc.template) % exc.params)


def _tags(values: Any) -> list[str]:
    try:
        return clean_tags(values)
    except LabelError as exc:
        raise _label_error(exc) from exc


def _account_manager(workspace_id: int, manager: AgentProfile | None) -> AgentProfile | None:
    if manager is not None and (manager.workspace_id != workspace_id or not manager.is_active):
        raise ValidationFailed(gettext("The account manager must be an active agent of this workspace."))
    return manager


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
    tags: list[str] | str | None = None,
    account_manager: AgentProfile | None = None,
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
    try:
        clean = clean_domains(list(domains or []))
    except LabelError as exc:
        raise _label_error(exc) from exc
    if account is not None and not isinstance(account, dict):
        raise ValidationFailed(gettext("Account data is a set of named values."))
    return CustomerOrganization.objects.create(
        workspace=workspace,
        name=name,
        tier=tier,
        domains=clean,
        account=account or {},
        external_id=external_id,
        notes=notes,
        tags=_tags(tags or []),
        account_manager=_account_manager(workspace.pk, account_manager),
    )


ORGANIZATION_FIELDS = frozenset(
    {"name", "tier", "domains", "account", "external_id", "notes", "tags", "account_manager"}
)


def organization_update(*, organization: CustomerOrganization, actor: Actor, **fields: Any) -> CustomerOrganization:
    """Update an organization's name, tier, domains, account data, notes, tags or account manager. Only fields
    whose value really changed are saved and named in `organization.updated` (a tier change re-matches SLAs)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=organization.workspace_id)
    if set(fields) - ORGANIZATION_FIELDS:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(fields) - ORGANIZATION_FIELDS))},
            code=CustomerErrorCode.NOT_UPDATABLE,
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
    try:
        if "domains" in fields:
            fields["domains"] = clean_domains(list(fields["domains"] or []))
    except LabelError as exc:
        raise _label_error(exc) from exc
    if "tags" in fields:
        fields["tags"] = _tags(fields["tags"] or [])
    if "account" in fields and not isinstance(fields["account"], dict):
        raise ValidationFailed(gettext("Account data is a set of named values."))
    if "account_manager" in fields:
        _account_manager(organization.workspace_id, fields["account_manager"])
    changed = sorted(key for key, value in fields.items() if getattr(organization, key) != value)
    if not changed:
        return organization
    with transaction.atomic():
        for key in changed:
            setattr(organization, key, fields[key])
        organization.save()
        publish(
            "organization.updated",
            workspace_id=organization.workspace_id,
            organization_id=organization.pk,
            fields=changed,
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


CONTACT_FIELDS = frozenset({"name", "organization", "tier", "language", "time_zone", "notes", "tags"})
_time_zones = cache(available_timezones)
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8}){0,3}$")


def contact_update(*, contact: Contact, actor: Actor, **fields: Any) -> Contact:
    """Update a contact's name, organization, tier, language, time zone, notes or tags; `contact.updated` is
    published only when something really changed."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    if set(fields) - CONTACT_FIELDS:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(fields) - CONTACT_FIELDS))},
            code=CustomerErrorCode.NOT_UPDATABLE,
        )
    org = fields.get("organization")
    if org is not None and org.workspace_id != contact.workspace_id:
        raise ValidationFailed(gettext("The organization belongs to another workspace."))
    if fields.get("tier") and fields["tier"] not in Tier.values:
        raise ValidationFailed(gettext("Unknown tier '%(tier)s'.") % {"tier": fields["tier"]})
    if "name" in fields:
        fields["name"] = " ".join(str(fields["name"] or "").split())
        if len(fields["name"]) > 200:
            raise ValidationFailed(gettext("A name has at most 200 characters."))
        if not fields["name"] and not contact.identities.exists():
            raise ValidationFailed(gettext("A contact needs a name or at least one identity (email, phone, …)."))
    if fields.get("language") and not _LANGUAGE.match(str(fields["language"])):
        raise ValidationFailed(
            gettext("'%(value)s' is not a language code (like zh-hans or en).") % {"value": fields["language"]}
        )
    if fields.get("time_zone") and fields["time_zone"] not in _time_zones():
        raise ValidationFailed(
            gettext("'%(value)s' is not a time zone (like Asia/Shanghai).") % {"value": fields["time_zone"]}
        )
    if "tags" in fields:
        fields["tags"] = _tags(fields["tags"] or [])
    changed = [key for key, value in fields.items() if getattr(contact, key) != value]
    if not changed:
        return contact
    with transaction.atomic():
        for key in changed:
            setattr(contact, key, fields[key])
        contact.save()
        publish("contact.updated", workspace_id=contact.workspace_id, contact_id=contact.pk)
    return contact


@transaction.atomic
def identity_detach(*, contact: Contact, actor: Actor, identity_id: int) -> None:
    """Remove one of a contact's identities. Its email or phone column falls back to another identity of the same
    kind; a contact without a name keeps at least one identity (it would be nobody)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    identity = ChannelIdentity.objects.filter(
        workspace_id=contact.workspace_id, contact=contact, pk=identity_id
    ).first()
    if identity is None:
        raise NotFound(gettext("This identity is not one of the contact's."))
    others = ChannelIdentity.objects.filter(contact=contact).exclude(pk=identity.pk)
    if not contact.name and not others.exists():
        raise ValidationFailed(gettext("A contact without a name keeps at least one identity: add a name first."))
    identity.delete()
    column = {"email": "email", "phone": "phone"}.get(identity.kind)
    if column and getattr(contact, column) == identity.value:
        replacement = others.filter(kind=identity.kind).order_by("pk").values_list("value", flat=True).first()
        setattr(contact, column, replacement or "")
        contact.save(update_fields=[column, "updated_at"])
    else:
        contact.save(update_fields=["updated_at"])
    publish("contact.updated", workspace_id=contact.workspace_id, contact_id=contact.pk)


@transaction.atomic
def identity_attach(*, contact: Contact, actor: Actor, kind: str, value: str) -> ChannelIdentity:
    """Attach an identity to a contact; refused when it already belongs to another contact (merge instead)."""
    authorize(actor, Perm.CONTACT_MANAGE, workspace_id=contact.workspace_id)
    if kind not in IdentityKind.values:
        raise ValidationFailed(
            gettext("Unknown kind of identity '%(kind)s'.") % {"kind": kind[:40]},
            code=CustomerErrorCode.INVALID_IDENTITY,
        )
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
    contact.save(update_fields=[*changed, "updated_at"])
    publish("contact.updated", workspace_id=contact.workspace_id, contact_id=contact.pk)
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
