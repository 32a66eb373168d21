"""REST endpoints of routing, mounted at /api/v1/routing/: policies (supervisors), the waiting queue, a ticket's
decisions, decline (the assignee) and override (supervisors). Objects of other workspaces are 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.accounts.selectors import access_agent
from pivotdesk.common.time import now
from pivotdesk.routing import selectors, services
from pivotdesk.routing.models import RoutingDecision, RoutingPolicy
from pivotdesk.routing.schemas import (
    DecisionOut,
    OutcomeOut,
    OverrideIn,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    QueuedOut,
    ReasonIn,
)
from pivotdesk.tickets.selectors import access_ticket

router = Router(tags=["routing"])


def _supervisor(request: HttpRequest) -> ApiContext:
    ctx = context(request)
    require(ctx.agent, Perm.ROUTING_MANAGE)
    return ctx


@router.get("/policies/", response=list[PolicyOut], summary="List routing policies in the order they are tried")
def list_policies(request: HttpRequest) -> list[RoutingPolicy]:
    ctx = _supervisor(request)
    return list(selectors.policy_list(workspace=ctx.workspace))


@router.post("/policies/", response={201: PolicyOut}, summary="Create a routing policy")
def create_policy(request: HttpRequest, data: PolicyIn) -> Status[RoutingPolicy]:
    ctx = _supervisor(request)
    fields = {k: v for k, v in data.dict().items() if v is not None or k in ("team", "overflow_team")}
    policy = services.policy_create(workspace=ctx.workspace, actor=ctx.actor, fields=fields)
    return Status(201, policy)


@router.patch("/policies/{policy_id}/", response=PolicyOut, summary="Change a routing policy")
def update_policy(request: HttpRequest, policy_id: int, data: PolicyPatch) -> RoutingPolicy:
    ctx = _supervisor(request)
    policy = selectors.access_policy(workspace=ctx.workspace, policy_id=policy_id)
    return services.policy_update(policy=policy, actor=ctx.actor, fields=data.dict(exclude_unset=True))


@router.get("/queue/", response=list[QueuedOut], summary="Tickets waiting for an agent, in queue order")
def waiting_queue(request: HttpRequest) -> list[dict[str, Any]]:
    ctx = _supervisor(request)
    at = now()
    return [
        {
            "ticket_id": q.ticket_id,
            "ticket_number": q.ticket.number,
            "priority": q.ticket.priority,
            "since": q.since,
            "waiting_seconds": int((at - q.since).total_seconds()),
            "relax_level": q.relax_level,
            "overflowed": q.overflowed,
            "attempts": q.attempts,
            "last_reason": q.last_reason,
        }
        for q in selectors.queue(workspace=ctx.workspace)
    ]


@router.get("/tickets/{ticket_id}/decisions/", response=list[DecisionOut], summary="A ticket's routing decisions")
def ticket_decisions(request: HttpRequest, ticket_id: int) -> list[RoutingDecision]:
    ctx = context(request)
    ticket = access_ticket(workspace=ctx.workspace, agent=ctx.agent, ticket_id=ticket_id)
    return selectors.decisions_for(ticket=ticket, limit=50)


def _outcome(outcome: services.Outcome) -> dict[str, Any]:
    return {
        "assigned_to": outcome.assigned_to.pk if outcome.assigned_to else None,
        "queued": outcome.queued,
        "decision_id": outcome.decision.pk if outcome.decision else None,
    }


@router.post("/tickets/{ticket_id}/decline/", response=OutcomeOut, summary="Give a ticket back with a reason")
def decline(request: HttpRequest, ticket_id: int, data: ReasonIn) -> dict[str, Any]:
    ctx = context(request)
    ticket = access_ticket(workspace=ctx.workspace, agent=ctx.agent, ticket_id=ticket_id)
    return _outcome(services.ticket_decline(ticket=ticket, actor=ctx.actor, reason=data.reason))


@router.post("/tickets/{ticket_id}/override/", response=DecisionOut, summary="Assign by hand with a reason")
def override(request: HttpRequest, ticket_id: int, data: OverrideIn) -> RoutingDecision:
    ctx = _supervisor(request)
    ticket = access_ticket(workspace=ctx.workspace, agent=ctx.agent, ticket_id=ticket_id)
    target = access_agent(workspace=ctx.workspace, agent_id=data.agent_id)
    return services.ticket_override(ticket=ticket, actor=ctx.actor, agent=target, reason=data.reason)
