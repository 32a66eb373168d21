"""Celery tasks of routing: thin, take the event dict or ids, call one service, safe to rerun."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, Trigger
from pivotdesk.routing.services.dispatch import ROUTING_ACTOR
from pivotdesk.routing.services.pool import bump_pool_version
from pivotdesk.tickets.models import Status, Ticket

log = logging.getLogger(__name__)
CLOSED = (Status.SOLVED, Status.CLOSED)


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("payload") or {}


@shared_task(name="routing.route_on_created", ignore_result=True)
def route_on_created(event: dict[str, Any]) -> None:
    """ticket.created → route it when a policy matches (tickets created already assigned are left alone)."""
    ticket_id, workspace_id = _payload(event).get("ticket_id"), event.get("workspace_id")
    if not isinstance(ticket_id, int) or not isinstance(workspace_id, int):
        return
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).first()
    if ticket is not None and ticket.assignee_id is None:
        services.route_ticket(actor=ROUTING_ACTOR, ticket=ticket, trigger=Trigger.NEW)


@shared_task(name="routing.on_status_changed", ignore_result=True)
def on_status_changed(event: dict[str, Any]) -> None:
    """ticket.status_changed: a reopened ticket is routed again; a solved/closed one frees capacity (drain)."""
    payload = _payload(event)
    old, new = payload.get("old"), payload.get("new")
    workspace_id = event.get("workspace_id")
    if not isinstance(workspace_id, int):
        return
    ticket_id = payload.get("ticket_id")
    if old in CLOSED and new in (Status.NEW, Status.OPEN) and isinstance(ticket_id, int):
        ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).first()
        if ticket is not None:
            services.route_ticket(
                actor=ROUTING_ACTOR, ticket=ticket, trigger=Trigger.REOPEN, expected_assignee_id=ticket.assignee_id
            )
    elif new not in (Status.NEW, Status.OPEN):
        services.drain_queue(actor=ROUTING_ACTOR, workspace_id=workspace_id)


@shared_task(name="routing.on_unassigned", ignore_result=True)
def on_unassigned(event: dict[str, Any]) -> None:
    """ticket.assigned: to nobody frees capacity (try the waiting tickets); to someone takes a waiting ticket out
    of the queue (a person took it)."""
    workspace_id, payload = event.get("workspace_id"), _payload(event)
    if not isinstance(workspace_id, int):
        return
    if payload.get("assignee_id") is None:
        services.drain_queue(actor=ROUTING_ACTOR, workspace_id=workspace_id)
    elif isinstance(payload.get("ticket_id"), int):
        QueuedTicket.objects.filter(workspace_id=workspace_id, ticket_id=payload["ticket_id"]).delete()


@shared_task(name="routing.on_waiting_ticket_changed", ignore_result=True)
def on_waiting_ticket_changed(event: dict[str, Any]) -> None:
    """ticket.updated on a waiting ticket (category, language, priority, team, tags changed): try it again now."""
    payload = _payload(event)
    ticket_id, workspace_id = payload.get("ticket_id"), event.get("workspace_id")
    if not isinstance(ticket_id, int) or not isinstance(workspace_id, int):
        return
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id, routing_queue__isnull=False).first()
    if ticket is not None and ticket.assignee_id is None:
        services.route_ticket(actor=ROUTING_ACTOR, ticket=ticket, trigger=Trigger.QUEUE)


@shared_task(name="routing.on_agent_status", ignore_result=True)
def on_agent_status(event: dict[str, Any]) -> None:
    """agent.status_changed: offline/away re-routes their tickets (per policy), online drains the queue."""
    payload = _payload(event)
    workspace_id, agent_id = event.get("workspace_id"), payload.get("agent_id")
    if isinstance(workspace_id, int) and isinstance(agent_id, int):
        services.on_agent_status(
            actor=ROUTING_ACTOR, workspace_id=workspace_id, agent_id=agent_id, new=str(payload.get("new") or "")
        )


@shared_task(name="routing.drain_queues", ignore_result=True)
def drain_queues() -> None:
    """Beat: retry the due waiting tickets of every workspace that has any (relaxing and overflowing on time)."""
    for workspace_id in QueuedTicket.objects.values_list("workspace_id", flat=True).distinct().order_by():
        try:
            services.drain_queue(actor=ROUTING_ACTOR, workspace_id=workspace_id, due_only=True)
        except Exception:  # one workspace's failure must not stop the others
            log.exception("routing: draining the queue of workspace %s failed", workspace_id)


@shared_task(name="routing.on_availability_changed", ignore_result=True)
def on_availability_changed(event: dict[str, Any]) -> None:
    """workforce.availability_changed (a shift started or ended, a roster was published, a leave or a swap was
    approved): forget the cached pool, then route the waiting tickets to whoever is on shift now."""
    workspace_id = event.get("workspace_id")
    if not isinstance(workspace_id, int):
        return
    bump_pool_version(workspace_id)
    services.drain_queue(actor=ROUTING_ACTOR, workspace_id=workspace_id, due_only=False)
