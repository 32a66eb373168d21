"""REST endpoints of the sla app: a ticket's clocks, and the workspace's policies (read)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from pivotdesk.accounts.api_auth import context
from pivotdesk.accounts.schemas import ErrorOut, Id
from pivotdesk.sla import selectors
from pivotdesk.sla.models import ClockState, SLAPolicy
from pivotdesk.sla.schemas import SLAPolicyOut, TicketSlaOut
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Ticket

router = Router(tags=["sla"])


def ticket_sla_out(ticket: Ticket) -> dict[str, Any]:
    """The SLA view of a ticket (its clocks in metric order, its firings oldest first)."""
    clocks = sorted(selectors.ticket_clocks(ticket=ticket), key=lambda c: c.metric)
    policy = next((c.policy for c in clocks if c.policy is not None), None)
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "policy": {"id": policy.pk, "name": policy.name} if policy is not None else None,
        "state": ticket.sla_state,
        "due_at": ticket.sla_due_at,
        "next_check_at": ticket.sla_next_check_at,
        "clocks": [
            {
                "metric": c.metric,
                "cycle": c.cycle,
                "state": c.state,
                "target_minutes": c.target_minutes,
                "business_hours": c.business_hours,
                "started_at": c.started_at,
                "due_at": c.due_at,
                "fulfilled_at": c.fulfilled_at,
                "breached_at": c.breached_at,
                "paused": c.paused,
                "elapsed_seconds": c.elapsed_seconds,
                "remaining_seconds": c.target_minutes * 60 - c.elapsed_seconds
                if c.state in (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)
                else None,
            }
            for c in clocks
        ],
        "firings": [
            {
                "metric": f.metric,
                "cycle": f.cycle,
                "kind": f.kind,
                "label": f.label,
                "fired_at": f.fired_at,
                "due_at": f.due_at,
                "text": str(f.data.get("text", "")),
                "errors": [str(e) for e in f.data.get("errors", [])],
            }
            for f in selectors.ticket_firings(ticket=ticket)
        ],
        "check_failure": _failure_out(ticket),
    }


def _failure_out(ticket: Ticket) -> dict[str, Any] | None:
    """The unresolved failure of the ticket's SLA check (the reason, how many in a row, the next try), if any."""
    failure = selectors.failing_checks(workspace=ticket.workspace).filter(ticket=ticket).first()
    if failure is None:
        return None
    return {
        "error": failure.error,
        "attempts": failure.attempts,
        "first_failed_at": failure.first_failed_at,
        "retry_at": failure.retry_at,
    }


@router.get("/tickets/{ticket_id}/sla", response={200: TicketSlaOut, 404: ErrorOut}, operation_id="get_ticket_sla")
def get_ticket_sla(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    """A ticket's SLA clocks (by ticket id)."""
    ctx = context(request)
    return ticket_sla_out(ticket_selectors.access_ticket(workspace=ctx.workspace, agent=ctx.agent, ticket_id=ticket_id))


@router.get(
    "/tickets/by-number/{number}/sla",
    response={200: TicketSlaOut, 404: ErrorOut},
    operation_id="get_ticket_sla_by_number",
)
def get_ticket_sla_by_number(request: HttpRequest, number: Id) -> dict[str, Any]:
    """A ticket's SLA clocks (by its workspace number, e.g. 10234)."""
    ctx = context(request)
    ticket = ticket_selectors.access_ticket_by_number(workspace=ctx.workspace, agent=ctx.agent, number=number)
    return ticket_sla_out(ticket)


def policy_out(policy: SLAPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "name": policy.name,
        "description": policy.description,
        "position": policy.position,
        "active": policy.active,
        "conditions": policy.conditions or {},
        "calendar_id": policy.calendar_id,
        "paused_statuses": list(policy.paused_statuses or []),
        "targets": [
            {
                "priority": t.priority,
                "metric": t.metric,
                "minutes": t.minutes,
                "business_hours": t.business_hours,
                "warn_at_percent": list(t.warn_at_percent or []),
                "warn_minutes_before": list(t.warn_minutes_before or []),
            }
            for t in policy.targets.all()
        ],
        "escalations": [
            {
                "level": e.level,
                "metric": e.metric,
                "minutes_after_breach": e.minutes_after_breach,
                "actions": list(e.actions or []),
            }
            for e in policy.escalations.all()
        ],
    }


@router.get("/sla/policies", response={200: list[SLAPolicyOut]}, operation_id="list_sla_policies")
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    """The workspace's SLA policies in matching order (the first active one whose conditions match applies)."""
    ctx = context(request)
    policies = selectors.policy_list(workspace=ctx.workspace).prefetch_related("targets", "escalations")
    return [policy_out(p) for p in policies]
