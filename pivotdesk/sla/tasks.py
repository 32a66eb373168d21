"""Celery tasks of the sla app: thin, take the event dict or nothing, call one service, safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.time import now
from pivotdesk.sla import services
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
SLA_TASKS = Actor.system("sla")  # the SLA tasks act as the system


@shared_task(name="sla.apply_on_event", ignore_result=True)
def sla_apply_on_event(event: dict[str, Any]) -> None:
    """Recompute the clocks of the event's ticket (and, for a merge, clear the merged-away ticket's clocks)."""
    payload = event.get("payload") or {}
    ids = [payload.get("ticket_id")]
    if event.get("name") == "ticket.merged":
        ids.append(payload.get("source_id"))
    for ticket_id in ids:
        if ticket_id is None:
            continue
        ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=event["workspace_id"]).first()
        if ticket is None:
            continue
        try:
            services.sla_apply(actor=SLA_TASKS, ticket=ticket)
        except Exception:  # the scanner takes over: it retries with back-off and records the reason if it fails
            log.exception("SLA recompute of ticket %s after %s failed", ticket_id, event.get("name"))
            Ticket.objects.filter(pk=ticket_id).update(sla_next_check_at=now())


@shared_task(name="sla.recheck_on_contact_event", ignore_result=True)
def sla_recheck_on_contact_event(event: dict[str, Any]) -> int:
    """A contact changed (tier, organization) or absorbed another in a merge: its unsolved tickets are re-matched
    by the next scan (the customers app publishes no event for an organization's own changes)."""
    payload = event.get("payload") or {}
    contact_id = payload.get("target_id") if event.get("name") == "contact.merged" else payload.get("contact_id")
    if contact_id is None:
        return 0
    return services.recheck_contact_tickets(
        actor=SLA_TASKS, workspace_id=int(event["workspace_id"]), contact_id=int(contact_id)
    )


@shared_task(name="sla.recheck_on_organization_event", ignore_result=True)
def sla_recheck_on_organization_event(event: dict[str, Any]) -> int:
    """An organization's tier changed: the unsolved tickets of the organization are re-matched by the next scan."""
    organization_id = (event.get("payload") or {}).get("organization_id")
    if organization_id is None:
        return 0
    return services.recheck_organization_tickets(
        actor=SLA_TASKS, workspace_id=int(event["workspace_id"]), organization_id=int(organization_id)
    )


@shared_task(name="sla.scan_due", ignore_result=True)
def sla_scan_due() -> int:
    """Check the tickets whose next SLA check has come and fire what is due (beat, every 30 s)."""
    return services.sla_scan_due(actor=SLA_TASKS).fired
