"""REST endpoints of automation: business events in (`POST /events/`), linked ticket chains (start, list, progress)
and their templates, rules (list, create, change, preview), macros (list, apply) and approvals (waiting for me,
decide). Writes go through the services (the gate is there); reads are scoped to the caller's workspace,
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
from pivotdesk.common.pagination import Page, paginate
from pivotdesk.common.time import now
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.tickets import selectors as ticket_selectors

from .errors import AutomationErrorCode
from .models import Approval, BusinessEvent, Chain, ChainTemplate, Macro, Rule
from .schemas import (
    ActionResultOut,
    ApprovalDecideIn,
    ApprovalOut,
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
    MacroApplyIn,
    MacroListQuery,
    MacroOut,
    RuleIn,
    RuleListQuery,
    RuleOut,
    RulePreviewQuery,
    RulePreviewRowOut,
)
from .services import approvals, business_events, chains, macros, rules

router = Router(tags=["automation"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": BusinessEventIn.model_json_schema()}},
    }
}


def _page(page: Page[Any], items: list[Any]) -> dict[str, object]:
    return page.body(items)


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
    require(ctx.agent, Perm.TICKET_CREATE)  # the permission first: a role that may not start one learns nothing more
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


# --- rules -------------------------------------------------------------------------------------------------------


def _rule_out(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "description": rule.description,
        "active": rule.active,
        "position": rule.position,
        "version": rule.version,
        "conditions": rule.conditions or {},
        "actions": rule.actions or [],
        "fired_count": rule.fired_count,
        "last_fired_at": rule.last_fired_at,
    }


def _rule(ctx: ApiContext, rule_id: int) -> Rule:
    rule = Rule.objects.filter(workspace=ctx.workspace, pk=rule_id).first()
    if rule is None:
        raise NotFound(gettext("No such rule."), code=AutomationErrorCode.NOT_FOUND)
    return rule


@router.get("/rules/", response=list[RuleOut], summary="Triggers and time rules, in the order they run")
def list_rules(request: HttpRequest, params: Query[RuleListQuery]) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.AUTOMATION_MANAGE)
    qs = Rule.objects.filter(workspace=ctx.workspace)
    if params.kind:
        qs = qs.filter(kind=params.kind)
    return [_rule_out(r) for r in qs.order_by("kind", "position", "pk")[:500]]


@router.post("/rules/", response={201: RuleOut, **ERRORS}, summary="Create a rule")
def create_rule(request: HttpRequest, data: RuleIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    require_admin_scope(ctx)
    rule = rules.rule_save(actor=ctx.actor, workspace=ctx.workspace, **data.model_dump())
    return Status(201, _rule_out(rule))


@router.put("/rules/{rule_id}/", response={200: RuleOut, **ERRORS}, summary="Save a new version of a rule")
def update_rule(request: HttpRequest, rule_id: Id, data: RuleIn) -> dict[str, Any]:
    ctx = context(request)
    require_admin_scope(ctx)
    rule = rules.rule_save(actor=ctx.actor, workspace=ctx.workspace, rule=_rule(ctx, rule_id), **data.model_dump())
    return _rule_out(rule)


@router.get(
    "/rules/{rule_id}/preview/",
    response={200: list[RulePreviewRowOut], **ERRORS},
    summary="What the rule would do to the latest tickets (the same cycle the triggers run)",
)
def preview_rule(request: HttpRequest, rule_id: Id, params: Query[RulePreviewQuery]) -> list[dict[str, Any]]:
    ctx = context(request)
    rows = rules.preview(actor=ctx.actor, rule=_rule(ctx, rule_id), limit=params.limit, event=params.event)
    return [
        {
            "ticket_id": row["ticket"].pk,
            "number": row["ticket"].number,
            "subject": row["ticket"].subject,
            "fires": row["fires"],
            "pass_number": row["pass"],
            "conditions": [
                {"path": e.path, "matched": e.matched, "value": e.value if _plain(e.value) else str(e.value)}
                for e in row["explained"]
            ],
        }
        for row in rows
    ]


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list)


# --- macros ------------------------------------------------------------------------------------------------------


def _macro_out(macro: Macro) -> dict[str, Any]:
    return {
        "id": macro.pk,
        "name": macro.name,
        "name_en": macro.name_en,
        "scope": macro.scope,
        "shortcut": macro.shortcut,
        "category_id": macro.category_id,
        "usage_count": macro.usage_count,
        "actions": macro.actions or [],
    }


def _ticket_by_number(ctx: ApiContext, number: int) -> Any:
    ticket = (
        ticket_selectors.visible_tickets(workspace=ctx.workspace, agent=ctx.agent)
        .filter(number=number)
        .select_related("category", "requester", "workspace")
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("Ticket not found."), code=AutomationErrorCode.NOT_FOUND)
    return ticket


@router.get(
    "/macros/",
    response={200: list[MacroOut], 404: ErrorOut},
    summary="My macros (shared, my teams', my own); a ticket's first",
)
def list_macros(request: HttpRequest, params: Query[MacroListQuery]) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    assert ctx.agent is not None  # noqa: S101 - require() refused a missing agent
    ticket = _ticket_by_number(ctx, params.ticket_number) if params.ticket_number else None
    return [_macro_out(m) for m in macros.macros_for(agent=ctx.agent, ticket=ticket, query=params.q)]


@router.post(
    "/macros/{macro_id}/apply/",
    response={200: list[ActionResultOut], **ERRORS},
    summary="Apply a macro to a ticket as me (the reply may be my edited text)",
)
def apply_macro(request: HttpRequest, macro_id: Id, data: MacroApplyIn) -> list[dict[str, Any]]:
    ctx = context(request)
    macro = Macro.objects.filter(workspace=ctx.workspace, pk=macro_id).first()
    if macro is None:
        raise NotFound(gettext("No such macro."), code=AutomationErrorCode.NOT_FOUND)
    ticket = _ticket_by_number(ctx, data.ticket_number)
    results = macros.macro_apply(
        actor=ctx.actor, macro=macro, ticket=ticket, reply=data.reply, skip_reply=data.skip_reply
    )
    return [{**r, "code": str(r.get("code", "")), "detail": str(r.get("detail", ""))} for r in results]


# --- approvals ---------------------------------------------------------------------------------------------------


def _approval_out(approval: Approval) -> dict[str, Any]:
    progress = approvals.progress_of(approval)
    return {
        "id": approval.pk,
        "ticket_id": approval.ticket_id,
        "status": approval.status,
        "stage_key": approval.stage_key,
        "waiting_on": [int(x) for x in approval.waiting_on or []],
        "percent": progress.percent,
        "overdue": progress.overdue,
        "due_at": progress.due_at,
        "stages": [
            {"key": s.key, "name": s.name, "status": s.status, "approvals": s.approvals, "required": s.required}
            for s in progress.stages
        ],
    }


@router.get("/approvals/", response=list[ApprovalOut], summary="Approvals waiting for me now")
def my_approvals(request: HttpRequest) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    assert ctx.agent is not None  # noqa: S101 - require() refused a missing agent
    return [_approval_out(a) for a in approvals.waiting_for(ctx.agent)]


@router.post(
    "/approvals/{approval_id}/decide/",
    response={200: ApprovalOut, **ERRORS},
    summary="Approve, reject or request changes (a reason is required to reject or ask for changes)",
)
def decide_approval(request: HttpRequest, approval_id: Id, data: ApprovalDecideIn) -> dict[str, Any]:
    ctx = context(request)
    approval = Approval.objects.filter(workspace=ctx.workspace, pk=approval_id).first()
    if approval is None:
        raise NotFound(gettext("No such approval."), code=AutomationErrorCode.NOT_FOUND)
    decided = approvals.approval_decide(
        actor=ctx.actor,
        approval=approval,
        verdict=data.verdict,
        comment=data.comment,
        reason=data.reason,
        missing_items=tuple(data.missing_items),
    )
    return _approval_out(decided)
