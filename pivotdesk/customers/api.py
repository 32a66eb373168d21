"""REST endpoints of the customers app: contacts (with identities and merge) and organizations."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router, Schema, Status

from pivotdesk.accounts.api_auth import context
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.schemas import ErrorOut, Id, Limit, Offset, ShortText
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.pagination import paginate
from pivotdesk.customers import selectors, services
from pivotdesk.customers.errors import CustomerErrorCode
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.customers.schemas import (
    ContactIn,
    ContactMergeIn,
    ContactOut,
    ContactPatchIn,
    IdentityIn,
    IdentityOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatchIn,
)

router = Router(tags=["customers"])

ERRORS: dict[int, type[ErrorOut]] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ContactPage(Schema):
    items: list[ContactOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class ContactListQuery(Schema):
    q: ShortText = ""
    organization: Id | None = None
    include_merged: bool = False
    limit: Limit = 50
    offset: Offset = 0


class OrganizationListQuery(Schema):
    q: ShortText = ""
    limit: Limit = 50
    offset: Offset = 0


def contact_out(contact: Contact) -> dict[str, Any]:
    """The API shape of a contact (identities from the selector's prefetch)."""
    org = contact.organization
    return {
        "id": contact.pk,
        "name": contact.name,
        "display_name": contact.display_name,
        "email": contact.email,
        "phone": contact.phone,
        "organization": {"id": org.pk, "name": org.name, "tier": org.tier} if org else None,
        "tier": contact.tier,
        "effective_tier": contact.effective_tier,
        "language": contact.language,
        "time_zone": contact.time_zone,
        "notes": contact.notes,
        "tags": contact.tags,
        "identities": [
            {"id": i.pk, "kind": i.kind, "value": i.value, "verified": i.verified, "last_seen_at": i.last_seen_at}
            for i in sorted(contact.identities.all(), key=lambda i: i.pk)
        ],
        "merged_into_id": contact.merged_into_id,
        "merged_at": contact.merged_at,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _organization_ref(workspace: Workspace, organization_id: int) -> CustomerOrganization:
    """An organization named in a request body; unknown (or another workspace's) is a 422."""
    try:
        return selectors.access_organization(workspace=workspace, organization_id=organization_id)
    except NotFound as exc:
        raise ValidationFailed(
            gettext("Unknown organization_id %(organization_id)s.") % {"organization_id": organization_id},
            code=CustomerErrorCode.UNKNOWN_REFERENCE,
            details={"organization_id": "not found"},
        ) from exc


# ---- contacts -----------------------------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, 422: ErrorOut}, operation_id="list_contacts")
def list_contacts(request: HttpRequest, filters: Query[ContactListQuery]) -> dict[str, Any]:
    """Search contacts by name, email, phone or any identity; filter by organization; paginated."""
    ctx = context(request)
    qs = selectors.contact_list(
        workspace=ctx.workspace,
        q=filters.q,
        organization_id=filters.organization,
        include_merged=filters.include_merged,
    )
    page = paginate(qs, limit=filters.limit, offset=filters.offset)
    return page.body(contact_out(c) for c in page.items)


@router.post("/contacts", response={201: ContactOut, **ERRORS}, operation_id="create_contact")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    """Create a contact with its email, phone and other identities."""
    ctx = context(request)
    org = _organization_ref(ctx.workspace, payload.organization_id) if payload.organization_id else None
    contact = services.contact_create(
        actor=ctx.actor,
        workspace=ctx.workspace,
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        organization=org,
        language=payload.language,
        tier=payload.tier,
        notes=payload.notes,
        identities=[(i.kind, i.value) for i in payload.identities],
    )
    return Status(201, contact_out(selectors.access_contact(workspace=ctx.workspace, contact_id=contact.pk)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, 404: ErrorOut}, operation_id="get_contact")
def get_contact(request: HttpRequest, contact_id: Id) -> dict[str, Any]:
    """One contact with its identities (a merged contact shows merged_into_id)."""
    ctx = context(request)
    return contact_out(selectors.access_contact(workspace=ctx.workspace, contact_id=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, operation_id="update_contact")
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatchIn) -> dict[str, Any]:
    """Change a contact's name, organization, tier, language, time zone or notes."""
    ctx = context(request)
    contact = selectors.access_contact(workspace=ctx.workspace, contact_id=contact_id)
    fields = payload.model_dump(exclude_unset=True)
    for key in ("name", "tier", "language", "time_zone", "notes"):
        if key in fields and fields[key] is None:
            fields[key] = ""
    if "organization_id" in fields:
        org_id = fields.pop("organization_id")
        fields["organization"] = _organization_ref(ctx.workspace, org_id) if org_id else None
    services.contact_update(actor=ctx.actor, contact=contact, **fields)
    return contact_out(selectors.access_contact(workspace=ctx.workspace, contact_id=contact_id))


@router.post("/contacts/{contact_id}/merge", response={200: ContactOut, **ERRORS}, operation_id="merge_contact")
def merge_contact(request: HttpRequest, contact_id: Id, payload: ContactMergeIn) -> dict[str, Any]:
    """Merge this contact into target_id: identities, tickets and history move; returns the survivor."""
    ctx = context(request)
    source = selectors.access_contact(workspace=ctx.workspace, contact_id=contact_id)
    target = selectors.access_contact(workspace=ctx.workspace, contact_id=payload.target_id)
    survivor = services.contact_merge(source=source, target=target, actor=ctx.actor)
    return contact_out(selectors.access_contact(workspace=ctx.workspace, contact_id=survivor.pk))


@router.post(
    "/contacts/{contact_id}/identities", response={201: IdentityOut, **ERRORS}, operation_id="add_contact_identity"
)
def add_contact_identity(request: HttpRequest, contact_id: Id, payload: IdentityIn) -> Status[Any]:
    """Attach an identity (email, phone, WeChat openid, …) to a contact; one owned by another contact is a 409."""
    ctx = context(request)
    contact = selectors.access_contact(workspace=ctx.workspace, contact_id=contact_id)
    with transaction.atomic():
        identity = services.identity_attach(actor=ctx.actor, contact=contact, kind=payload.kind, value=payload.value)
    return Status(201, identity)


# ---- organizations ------------------------------------------------------------------------------------------------


@router.get("/organizations", response={200: OrganizationPage, 422: ErrorOut}, operation_id="list_organizations")
def list_organizations(request: HttpRequest, filters: Query[OrganizationListQuery]) -> dict[str, Any]:
    """List customer organizations, optionally searched by name; paginated."""
    ctx = context(request)
    page = paginate(
        selectors.organization_list(workspace=ctx.workspace, q=filters.q), limit=filters.limit, offset=filters.offset
    )
    return page.body()


@router.post("/organizations", response={201: OrganizationOut, **ERRORS}, operation_id="create_organization")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[CustomerOrganization]:
    """Create a customer organization with a tier and the email domains that map to it."""
    ctx = context(request)
    org = services.organization_create(actor=ctx.actor, workspace=ctx.workspace, **payload.model_dump())
    return Status(201, org)


@router.get(
    "/organizations/{organization_id}", response={200: OrganizationOut, 404: ErrorOut}, operation_id="get_organization"
)
def get_organization(request: HttpRequest, organization_id: Id) -> CustomerOrganization:
    """One customer organization."""
    ctx = context(request)
    return selectors.access_organization(workspace=ctx.workspace, organization_id=organization_id)


@router.patch(
    "/organizations/{organization_id}", response={200: OrganizationOut, **ERRORS}, operation_id="update_organization"
)
def update_organization(
    request: HttpRequest, organization_id: Id, payload: OrganizationPatchIn
) -> CustomerOrganization:
    """Change an organization's name, tier, domains, account data or notes."""
    ctx = context(request)
    org = selectors.access_organization(workspace=ctx.workspace, organization_id=organization_id)
    fields = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    if "domains" in fields:
        fields["domains"] = [d.lower() for d in fields["domains"]]
    return services.organization_update(actor=ctx.actor, organization=org, **fields)
