"""REST endpoints of the tickets app: tickets, messages, timeline, links, merge, bulk, tags, fields, saved views.

Ids in the path are looked up through access_* selectors (another workspace's object is a 404); ids named in a
request body that do not resolve are a 422 `unknown_reference`, except the ticket an action targets (merge, link,
parent), which is looked up like a path id.
"""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.translation import gettext
from ninja import Query, Router
from ninja import Status as Reply
from ninja.errors import ValidationError as NinjaValidationError

from pivotdesk.accounts import selectors as account_selectors
from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.schemas import MAX_ID, ErrorOut, Id
from pivotdesk.common.delivery_errors import describe as describe_delivery_error
from pivotdesk.common.errors import Conflict, DomainError, NotFound, ValidationFailed
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.common.pagination import Page, paginate
from pivotdesk.common.user_files import user_file_response, user_file_url
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import selectors, services
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import Message, Priority, Status, Ticket, TicketEvent, TicketLink
from pivotdesk.tickets.schemas import (
    BulkIn,
    BulkOut,
    EventPage,
    LinkIn,
    LinkOut,
    LinksOut,
    MergeIn,
    MessageIn,
    MessageListQuery,
    MessageOut,
    MessagePage,
    PageQuery,
    ParentIn,
    TicketIn,
    TicketListQuery,
    TicketOut,
    TicketPage,
    TicketPatchIn,
)
from pivotdesk.tickets.selectors import TicketFilters

router = Router(tags=["tickets"])

ERRORS: dict[int, type[ErrorOut]] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
MAX_FILES = 20


# ---- output shapes --------------------------------------------------------------------------------------------------


def ticket_out(t: Ticket) -> dict[str, Any]:
    """The API shape of a ticket (TicketOut); related rows come from select_related/prefetch when loaded."""
    requester = t.requester
    org = t.organization
    assignee = t.assignee
    return {
        "id": t.pk,
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "status_label": t.custom_status.label if t.custom_status else str(Status(t.status).label),
        "priority": t.priority,
        "ticket_type": t.ticket_type,
        "channel": t.channel,
        "requester": {"id": requester.pk, "name": requester.display_name, "email": requester.email},
        "organization": {"id": org.pk, "name": org.name, "tier": org.tier} if org else None,
        "assignee": {"id": assignee.pk, "name": assignee.name} if assignee else None,
        "team": {"id": t.team.pk, "name": t.team.name} if t.team else None,
        "category": {"id": t.category.pk, "name": t.category.name} if t.category else None,
        "tags": sorted(tag.name for tag in t.tags.all()),
        "custom_fields": t.custom_fields or {},
        "language": t.language,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "first_response_at": t.first_response_at,
        "solved_at": t.solved_at,
        "closed_at": t.closed_at,
        "merged_into_id": t.merged_into_id,
        "parent_id": t.parent_id,
        "message_count": t.message_count,
    }


def _fresh(ticket: Ticket) -> dict[str, Any]:
    """The shape of a ticket a service just wrote, re-read (counters and timestamps are updated in SQL)."""
    ticket.refresh_from_db()
    return ticket_out(ticket)


def message_out(m: Message) -> dict[str, Any]:
    """The API shape of a message with download links for its attachments."""
    return {
        "id": m.pk,
        "ticket_id": m.ticket_id,
        "kind": m.kind,
        "author_type": m.author_type,
        "author_name": m.author_name,
        "author_agent_id": m.author_agent_id,
        "author_contact_id": m.author_contact_id,
        "body_text": m.body_text,
        "body_html": m.body_html,
        "channel": m.channel,
        "created_at": m.created_at,
        "delivery_status": m.delivery_status,
        "delivery_error": describe_delivery_error(m.delivery_error),  # in the request's language
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "url": user_file_url(reverse("api:download_attachment", kwargs={"attachment_id": a.pk})),
            }
            for a in m.attachments.all()
        ],
    }


def event_out(e: TicketEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "created_at": e.created_at,
        "actor_type": e.actor_type,
        "actor_agent_id": e.actor_agent_id,
        "actor_label": e.actor_label,
        "verb": e.verb,
        "field": e.field,
        "old_value": e.old_value,
        "new_value": e.new_value,
        "data": e.data or {},
    }


def _ref(t: Ticket) -> dict[str, Any]:
    return {"id": t.pk, "number": t.number, "subject": t.subject, "status": t.status}


def link_out(link: TicketLink, ticket: Ticket) -> dict[str, Any]:
    outgoing = link.source_id == ticket.pk
    return {
        "id": link.pk,
        "kind": link.kind,
        "direction": "outgoing" if outgoing else "incoming",
        "ticket": _ref(link.target if outgoing else link.source),
    }


def _page(page: Page[Any], out: Any) -> dict[str, object]:
    return page.body(out(i) for i in page.items)


# ---- lookups --------------------------------------------------------------------------------------------------------


def _ticket(ctx: ApiContext, ticket_id: int) -> Ticket:
    return selectors.access_ticket(workspace=ctx.workspace, agent=ctx.agent, ticket_id=ticket_id)


def _unknown(field: str, value: object) -> ValidationFailed:
    return ValidationFailed(f"Unknown {field} {value}.", code="unknown_reference", details={field: "not found"})


def _requester(ctx: ApiContext, payload: TicketIn) -> Contact:
    """The requester by id, or found/created from {name, email, phone}."""
    if payload.requester_id is not None:
        try:
            return customer_selectors.access_contact(workspace=ctx.workspace, contact_id=payload.requester_id)
        except NotFound as exc:
            raise _unknown("requester_id", payload.requester_id) from exc
    r = payload.requester
    if r is None or not (r.email or r.phone or r.name):
        raise ValidationFailed(
            gettext("A ticket needs requester_id or requester {name, email, phone}."), details={"requester": "required"}
        )
    if r.email:
        return customer_services.contact_resolve(
            actor=ctx.actor, workspace=ctx.workspace, kind="email", value=r.email, name=r.name
        )
    if r.phone:
        return customer_services.contact_resolve(
            actor=ctx.actor, workspace=ctx.workspace, kind="phone", value=r.phone, name=r.name
        )
    return customer_services.contact_create(actor=ctx.actor, workspace=ctx.workspace, name=r.name)


# ---- tickets ------------------------------------------------------------------------------------------------------


@router.get("/tickets", response={200: TicketPage, 422: ErrorOut}, operation_id="list_tickets")
def list_tickets(request: HttpRequest, filters: Query[TicketListQuery]) -> dict[str, Any]:
    """List the tickets the caller may see, filtered and sorted, in pages of up to 200."""
    ctx = context(request)
    data = filters.model_dump(exclude={"sort", "limit", "offset"})
    priorities = [p for p in filters.priority.split(",") if p]
    bad = [p for p in priorities if p not in Priority.values]
    if bad:
        raise ValidationFailed(
            gettext("Unknown priority %(bad)s.") % {"bad": bad}, details={"priority": Priority.values}
        )
    assignee = filters.assignee
    if assignee and assignee not in ("me", "none") and not (assignee.isdigit() and 0 < int(assignee) <= MAX_ID):
        raise ValidationFailed(
            gettext("Filter 'assignee' is an agent id, 'me' or 'none'."), details={"assignee": assignee}
        )
    if data.get("scope") == "all":
        data["scope"] = ""
    qs = selectors.ticket_list(
        workspace=ctx.workspace, agent=ctx.agent, filters=TicketFilters.from_dict(data), sort=filters.sort
    )
    return _page(paginate(qs, limit=filters.limit, offset=filters.offset), ticket_out)


@router.post("/tickets", response={200: TicketOut, 201: TicketOut, **ERRORS}, operation_id="create_ticket")
def create_ticket(request: HttpRequest, payload: TicketIn) -> Reply[dict[str, Any]]:
    """Open a ticket for a requester (by id, or found/created by email or phone); the body is their first message.

    `external_id` is an idempotency key: the first call with a key opens the ticket (201), every later or
    concurrent one returns that same ticket (200) and writes nothing."""
    ctx = context(request)
    if not (payload.subject or payload.body.strip() or payload.body_html.strip()):
        raise ValidationFailed(gettext("A ticket needs a subject or a body."), details={"subject": "required"})
    try:
        ticket = _create_ticket(ctx, payload)
    except Conflict as exc:
        if exc.code != TicketErrorCode.DUPLICATE_EXTERNAL_ID:
            raise
        # Read after the rollback: the winner of a race has committed by the time its key refused our insert.
        existing = selectors.ticket_by_external_id(
            workspace=ctx.workspace, agent=ctx.agent, external_id=payload.external_id
        )
        if existing is None:  # the key belongs to a ticket this client may not see
            raise
        return Reply(200, ticket_out(existing))
    return Reply(201, _fresh(ticket))


def _create_ticket(ctx: ApiContext, payload: TicketIn) -> Ticket:
    with transaction.atomic():
        requester = _requester(ctx, payload)
        team = assignee = category = None
        try:
            if payload.team_id is not None:
                team = account_selectors.access_team(workspace=ctx.workspace, team_id=payload.team_id)
        except NotFound as exc:
            raise _unknown("team_id", payload.team_id) from exc
        try:
            if payload.assignee_id is not None:
                assignee = account_selectors.access_agent(workspace=ctx.workspace, agent_id=payload.assignee_id)
        except NotFound as exc:
            raise _unknown("assignee_id", payload.assignee_id) from exc
        try:
            if payload.category_id is not None:
                category = selectors.access_category(workspace=ctx.workspace, category_id=payload.category_id)
        except NotFound as exc:
            raise _unknown("category_id", payload.category_id) from exc
        ticket = services.ticket_create(
            workspace=ctx.workspace,
            requester=requester,
            subject=payload.subject,
            body=payload.body,
            body_html=payload.body_html,
            actor=ctx.actor,
            channel=payload.channel,
            priority=payload.priority,
            ticket_type=payload.ticket_type,
            category=category,
            team=team,
            assignee=assignee,
            tags=payload.tags,
            custom_fields=payload.custom_fields,
            language=payload.language,
            status=payload.status,
            external_id=payload.external_id,
        )
    return ticket


@router.post("/tickets/bulk", response={200: BulkOut, **ERRORS}, operation_id="bulk_update_tickets")
def bulk_update_tickets(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Apply the same changes to many tickets; each succeeds or fails on its own (failed: id → reason)."""
    ctx = context(request)
    renames = {"assignee_id": "assignee", "team_id": "team", "category_id": "category"}
    changes = {renames.get(k, k): v for k, v in payload.changes.model_dump(exclude_unset=True).items()}
    for key in ("status", "priority", "ticket_type"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(gettext("'%(key)s' cannot be null.") % {"key": key}, details={key: "null"})
    if not changes:
        raise ValidationFailed(gettext("Nothing to change."), details={"changes": "empty"})
    ids = list(dict.fromkeys(payload.ticket_ids))
    visible = set(
        selectors.visible_tickets(workspace=ctx.workspace, agent=ctx.agent)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    result = services.tickets_bulk_update(
        workspace=ctx.workspace, ticket_ids=[i for i in ids if i in visible], actor=ctx.actor, changes=changes
    )
    failed = {i: "not found" for i in ids if i not in visible}
    failed.update(result["failed"])
    return {"updated": result["updated"], "failed": failed}


@router.get(
    "/tickets/by-number/{number}", response={200: TicketOut, 404: ErrorOut}, operation_id="get_ticket_by_number"
)
def get_ticket_by_number(request: HttpRequest, number: Id) -> dict[str, Any]:
    """One ticket by its workspace number (e.g. 10234)."""
    ctx = context(request)
    return ticket_out(selectors.access_ticket_by_number(workspace=ctx.workspace, agent=ctx.agent, number=number))


@router.get("/tickets/{ticket_id}", response={200: TicketOut, 404: ErrorOut}, operation_id="get_ticket")
def get_ticket(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    """One ticket."""
    return ticket_out(_ticket(context(request), ticket_id))


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, operation_id="update_ticket")
def update_ticket(request: HttpRequest, ticket_id: Id, payload: TicketPatchIn) -> dict[str, Any]:
    """Change a ticket's fields; each change is recorded on the timeline. Closed tickets only take tags."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    renames = {
        "custom_status_id": "custom_status",
        "category_id": "category",
        "team_id": "team",
        "assignee_id": "assignee",
        "follower_ids": "followers",
    }
    changes = {renames.get(k, k): v for k, v in payload.model_dump(exclude_unset=True).items()}
    for key in ("subject", "status", "priority", "ticket_type", "language", "custom_fields"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(gettext("'%(key)s' cannot be null.") % {"key": key}, details={key: "null"})
    updated = services.ticket_update(ticket=ticket, actor=ctx.actor, changes=changes)
    return _fresh(updated)


# ---- messages, attachments, timeline ------------------------------------------------------------------------------


def _message_input(request: HttpRequest) -> tuple[MessageIn, list[UploadedFile[bytes]]]:
    """Read a message from JSON, or from multipart/form-data with `files`."""
    files: list[UploadedFile[bytes]] = []
    content_type = (request.content_type or "").lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            data: Any = {k: request.POST.get(k) for k in ("body", "body_html", "kind", "status_after")}
            files = [*request.FILES.getlist("files"), *request.FILES.getlist("attachments")]
        except MultiPartParserError as exc:
            raise DomainError(
                gettext("The multipart body could not be read."), code=TicketErrorCode.BAD_REQUEST
            ) from exc
        data = {k: v for k, v in data.items() if v not in (None, "") or k in ("body", "body_html")}
        data = {k: v for k, v in data.items() if v is not None}
    else:
        try:
            data = loads_guarded(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise DomainError(
                gettext("The request body is not valid JSON."), code=TicketErrorCode.INVALID_JSON
            ) from exc
        if not isinstance(data, dict):
            raise ValidationFailed(gettext("The request body must be a JSON object."))
    try:
        message = MessageIn.model_validate(data)
    except pydantic.ValidationError as exc:
        raise NinjaValidationError(
            [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        ) from exc
    if len(files) > MAX_FILES:
        raise ValidationFailed(gettext("At most %(MAX_FILES)s files per message.") % {"MAX_FILES": MAX_FILES})
    for f in files:
        if (f.size or 0) > settings.PIVOTDESK_ATTACHMENT_MAX_BYTES:
            raise ValidationFailed(
                gettext("'%(name)s' is larger than the attachment limit.") % {"name": f.name},
                code=TicketErrorCode.FILE_TOO_LARGE,
            )
    return message, files


_MESSAGE_JSON = MessageIn.model_json_schema()
_MESSAGE_MULTIPART = {
    **_MESSAGE_JSON,
    "properties": {
        **_MESSAGE_JSON["properties"],
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}


@router.get(
    "/tickets/{ticket_id}/messages",
    response={200: MessagePage, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_messages",
)
def list_messages(request: HttpRequest, ticket_id: Id, params: Query[MessageListQuery]) -> dict[str, Any]:
    """The ticket's conversation in order (public replies, notes, system messages), with attachments."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    qs = selectors.message_list(ticket=ticket, include_notes=params.include_notes)
    return _page(paginate(qs, limit=params.limit, offset=params.offset), message_out)


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut, **ERRORS},
    operation_id="create_message",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _MESSAGE_JSON},
                "multipart/form-data": {"schema": _MESSAGE_MULTIPART},
            },
        }
    },
)
def create_message(request: HttpRequest, ticket_id: Id) -> Reply[dict[str, Any]]:
    """Reply publicly or add an internal note, as JSON or multipart/form-data with `files` attachments."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    payload, files = _message_input(request)
    message = services.message_create(
        ticket=ticket,
        actor=ctx.actor,
        body=payload.body,
        body_html=payload.body_html,
        kind=payload.kind,
        status_after=payload.status_after,
        attachments=[(f.name or "attachment", f.read(), f.content_type or "") for f in files],
    )
    row = selectors.message_list(ticket=message.ticket).get(pk=message.pk)
    return Reply(201, message_out(row))


@router.get(
    "/attachments/{attachment_id}/download",
    response={200: None, 404: ErrorOut},
    operation_id="download_attachment",
    url_name="download_attachment",
    # int key 200: merged into the response above (a "200" string key would be a second, duplicate "200" in the JSON
    # and Swagger UI at /api/docs refuses the whole schema).
    openapi_extra={"responses": {200: {"description": "The file", "content": {"application/octet-stream": {}}}}},
)
def download_attachment(request: HttpRequest, attachment_id: Id) -> FileResponse:
    """Download an attachment of a ticket the caller may see: a raster image inline, anything else as a download."""
    ctx = context(request)
    attachment = selectors.access_attachment(workspace=ctx.workspace, agent=ctx.agent, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise NotFound(gettext("The file of this attachment is missing.")) from exc
    # Inline only for a mail's inline image whose bytes are one; everything else downloads (issue 11, finding 1).
    return user_file_response(handle=handle, filename=attachment.filename, inline=attachment.inline)


@router.get(
    "/tickets/{ticket_id}/events",
    response={200: EventPage, 404: ErrorOut, 422: ErrorOut},
    operation_id="list_ticket_events",
)
def list_ticket_events(request: HttpRequest, ticket_id: Id, params: Query[PageQuery]) -> dict[str, Any]:
    """The ticket's timeline: every change, who or what made it, old and new values."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    return _page(paginate(selectors.timeline(ticket=ticket), limit=params.limit, offset=params.offset), event_out)


# ---- merge, links, parent -----------------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/merge", response={200: TicketOut, **ERRORS}, operation_id="merge_ticket")
def merge_ticket(request: HttpRequest, ticket_id: Id, payload: MergeIn) -> dict[str, Any]:
    """Merge this ticket into target_id: messages move, the source closes and points on. Returns the survivor."""
    ctx = context(request)
    source = _ticket(ctx, ticket_id)
    target = _ticket(ctx, payload.target_id)
    survivor = services.ticket_merge(source=source, target=target, actor=ctx.actor)
    return _fresh(survivor)


@router.get("/tickets/{ticket_id}/links", response={200: LinksOut, 404: ErrorOut}, operation_id="list_ticket_links")
def list_ticket_links(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    """The ticket's parent, children and links (related, duplicate-of) in either direction."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    grouped = selectors.ticket_links(ticket=ticket)
    return {
        "parent": _ref(grouped["parent"][0]) if grouped["parent"] else None,
        "children": [_ref(c) for c in grouped["children"]],
        "links": [link_out(link, ticket) for link in selectors.link_list(ticket=ticket)],
    }


@router.post("/tickets/{ticket_id}/links", response={201: LinkOut, **ERRORS}, operation_id="create_ticket_link")
def create_ticket_link(request: HttpRequest, ticket_id: Id, payload: LinkIn) -> Reply[dict[str, Any]]:
    """Link this ticket to target_id as related or duplicate_of (this ticket duplicates the target)."""
    ctx = context(request)
    source = _ticket(ctx, ticket_id)
    target = _ticket(ctx, payload.target_id)
    link = services.ticket_link(source=source, target=target, kind=payload.kind, actor=ctx.actor)
    return Reply(201, link_out(link, source))


@router.delete(
    "/tickets/{ticket_id}/links/{link_id}", response={204: None, **ERRORS}, operation_id="delete_ticket_link"
)
def delete_ticket_link(request: HttpRequest, ticket_id: Id, link_id: Id) -> Reply[None]:
    """Remove a link of this ticket."""
    ctx = context(request)
    ticket = _ticket(ctx, ticket_id)
    link = selectors.access_ticket_link(ticket=ticket, link_id=link_id)
    services.ticket_unlink(link=link, actor=ctx.actor)
    return Reply(204, None)


@router.put("/tickets/{ticket_id}/parent", response={200: TicketOut, **ERRORS}, operation_id="set_ticket_parent")
def set_ticket_parent(request: HttpRequest, ticket_id: Id, payload: ParentIn) -> dict[str, Any]:
    """Make this ticket a child of parent_id, or detach it with null."""
    ctx = context(request)
    child = _ticket(ctx, ticket_id)
    parent = _ticket(ctx, payload.parent_id) if payload.parent_id is not None else None
    return _fresh(services.ticket_set_parent(child=child, parent=parent, actor=ctx.actor))
