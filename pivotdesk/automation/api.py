"""REST endpoints of automation: business events in (`POST /events/`), linked ticket chains (start, list, progress)
and their templates. Writes go through the services (the gate is there); reads are scoped to the caller's workspace,
and a chain is visible to whoever may see its umbrella ticket."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router, Status

from pivotdesk.accounts.api_auth import ApiContext, context, require_admin_scope
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.accounts.schemas import ErrorOut, Id
from pivotdesk.common.errors import NotFound
from pivotdesk.common.pagination import paginate
from pivotdesk.common.time import now
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.tickets import selectors as ticket_selectors

from .errors import AutomationErrorCode
from .models import BusinessEvent, Chain, ChainTemplate
from .schemas import (
    BusinessEventAcceptedOut,
    BusinessEventIn,
    BusinessEventListQuery,
    BusinessEventOut,
    BusinessEventPage,
    ChainListQuery,
    ChainOut,
    ChainPage,
    ChainStartIn,
    ChainTemplateIn,
    ChainTemplateOut,
)
from .services import business_events, chains

router = Router(tags=["automation"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": BusinessEventIn.model_json_schema()}},
    }
}


def _page(page: Any, items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


# --- business events ---------------------------------------------------------------------------------------------


def _accepted(event: BusinessEvent, created: bool) -> dict[str, Any]:
    return {
        "id": event.pk,
        "status": event.status,
        "reason": event.reason,
        "message": business_events.reason_text(event.reason) if event.reason else "",
        "created": created,
    }


def _event_out(event: BusinessEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "event_id": event.event_id,
        "type": event.type,
        "key": event.key,
        "data": event.data if isinstance(event.data, dict) else {},
        "status": event.status,
        "reason": event.reason,
        "message": business_events.reason_text(event.reason) if event.reason else "",
        "chain_id": event.chain_id,
        "ticket_id": event.ticket_id,
        "created_at": event.created_at,
        "processed_at": event.processed_at,
    }


@router.post(
    "/events/",
    response={200: BusinessEventAcceptedOut, 202: BusinessEventAcceptedOut, **ERRORS},
    summary="Receive a business event (202 when new, 200 for a repeated id; kept even when its key is unknown)",
    openapi_extra=EVENT_BODY,
)
def receive_event(request: HttpRequest) -> Status[dict[str, Any]]:
    ctx = context(request)
    event, created = business_events.business_event_receive(actor=ctx.actor, workspace=ctx.workspace, body=request.body)
    return Status(202 if created else 200, _accepted(event, created))


@router.get("/events/", response=BusinessEventPage, summary="Business events received (newest first)")
def list_events(request: HttpRequest, params: Query[BusinessEventListQuery]) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.AUTOMATION_MANAGE)
    qs = BusinessEvent.objects.filter(workspace=ctx.workspace)
    if params.status:
        qs = qs.filter(status=params.status)
    page = paginate(qs.order_by("-created_at", "-pk"), limit=params.limit, offset=params.offset)
    return _page(page, [_event_out(e) for e in page.items])


@router.post(
    "/events/{event_id}/retry/",
    response={200: BusinessEventOut, **ERRORS},
    summary="Match an event whose key was unknown again",
)
def retry_event(request: HttpRequest, event_id: Id) -> dict[str, Any]:
    ctx = context(request)
    event = BusinessEvent.objects.filter(workspace=ctx.workspace, pk=event_id).first()
    if event is None:
        raise NotFound(gettext("No such business event."), code=AutomationErrorCode.NOT_FOUND)
    return _event_out(business_events.business_event_retry(actor=ctx.actor, event=event))


# --- chains ------------------------------------------------------------------------------------------------------


def _chains(ctx: ApiContext) -> QuerySet[Chain]:
    visible = ticket_selectors.visible_tickets(workspace=ctx.workspace, agent=ctx.agent)
    return Chain.objects.filter(workspace=ctx.workspace, parent__in=visible.values("pk"))


def _chain(ctx: ApiContext, chain_id: int) -> Chain:
    chain = _chains(ctx).select_related("parent").filter(pk=chain_id).first()
    if chain is None:
        raise NotFound(gettext("No such chain."), code=AutomationErrorCode.NOT_FOUND)
    return chain


@router.get("/chains/", response=ChainPage, summary="Linked ticket chains (newest first)")
def list_chains(request: HttpRequest, params: Query[ChainListQuery]) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    qs = _chains(ctx)
    if params.done is not None:
        qs = qs.filter(done=params.done)
    page = paginate(qs.order_by("-created_at", "-pk"), limit=params.limit, offset=params.offset)
    items = [
        {
            "id": c.pk,
            "key": c.key,
            "name": c.name,
            "template_id": c.template_id,
            "parent_id": c.parent_id,
            "done": c.done,
            "created_at": c.created_at,
        }
        for c in page.items
    ]
    return _page(page, items)


@router.get("/chains/{chain_id}/", response={200: ChainOut, 404: ErrorOut}, summary="A chain and its progress")
def get_chain(request: HttpRequest, chain_id: Id) -> dict[str, Any]:
    ctx = context(request)
    return chains.chain_view(_chain(ctx, chain_id), now())


@router.post(
    "/chains/",
    response={200: ChainOut, 201: ChainOut, **ERRORS},
    summary="Start a chain from a template (200 with the running chain when the key is taken)",
)
def start_chain(request: HttpRequest, data: ChainStartIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    template = _template(ctx, data.template_id)
    parent = requester = None
    if data.parent_number is not None:
        parent = ticket_selectors.access_ticket_by_number(
            workspace=ctx.workspace, agent=ctx.agent, number=data.parent_number
        )
    elif data.requester_id is not None:
        requester = customer_selectors.access_contact(workspace=ctx.workspace, contact_id=data.requester_id)
    existed = Chain.objects.filter(workspace=ctx.workspace, key=data.key.strip()).exists()
    chain = chains.chain_start(
        actor=ctx.actor,
        template=template,
        key=data.key,
        parent=parent,
        requester=requester,
        subject=data.subject,
        values=data.values,
    )
    return Status(200 if existed else 201, chains.chain_view(chain, now()))


# --- chain templates ---------------------------------------------------------------------------------------------


def _template(ctx: ApiContext, template_id: int) -> ChainTemplate:
    template = ChainTemplate.objects.filter(workspace=ctx.workspace, pk=template_id).first()
    if template is None:
        raise NotFound(gettext("No such chain template."), code=AutomationErrorCode.NOT_FOUND)
    return template


@router.get("/chain-templates/", response=list[ChainTemplateOut], summary="Chain templates")
def list_templates(request: HttpRequest) -> list[ChainTemplate]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    return list(ChainTemplate.objects.filter(workspace=ctx.workspace).order_by("name", "pk")[:500])


def _save(ctx: ApiContext, data: ChainTemplateIn, template: ChainTemplate | None) -> ChainTemplate:
    require_admin_scope(ctx)
    return chains.template_save(
        actor=ctx.actor,
        workspace=ctx.workspace,
        name=data.name,
        mode=data.mode,
        stages=[s.dict() for s in data.stages],
        description=data.description,
        active=data.active,
        template=template,
    )


@router.post("/chain-templates/", response={201: ChainTemplateOut, **ERRORS}, summary="Create a chain template")
def create_template(request: HttpRequest, data: ChainTemplateIn) -> Status[ChainTemplate]:
    ctx = context(request)
    return Status(201, _save(ctx, data, None))


@router.put(
    "/chain-templates/{template_id}/",
    response={200: ChainTemplateOut, **ERRORS},
    summary="Save a new version of a chain template (running chains keep theirs)",
)
def update_template(request: HttpRequest, template_id: Id, data: ChainTemplateIn) -> ChainTemplate:
    ctx = context(request)
    return _save(ctx, data, _template(ctx, template_id))
