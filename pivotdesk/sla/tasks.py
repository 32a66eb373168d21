"""Celery tasks of the sla app: thin, take the event dict or nothing, call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.sla import services
from pivotdesk.tickets.models import Ticket


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
        if ticket is not None:
            services.sla_apply(ticket=ticket)


@shared_task(name="sla.scan_due", ignore_result=True)
def sla_scan_due() -> int:
    """Check the tickets whose next SLA check has come and fire what is due (beat, every 30 s)."""
    return services.sla_scan_due().fired
