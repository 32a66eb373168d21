"""Celery tasks of the surveys app: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.surveys import services
from pivotdesk.tickets.models import Ticket

SYSTEM = Actor.system("surveys")


@shared_task(name="surveys.csat_on_status", ignore_result=True)
def csat_on_status(event: dict[str, Any]) -> None:
    """ticket.status_changed to solved (or closed): invite the requester to rate it (once per solve)."""
    payload = event.get("payload") or {}
    ticket_id, workspace_id = payload.get("ticket_id"), event.get("workspace_id")
    if payload.get("new") not in services.SOLVED_CATEGORIES or not isinstance(ticket_id, int):
        return
    if not isinstance(workspace_id, int):
        return
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).first()
    if ticket is not None:
        services.csat_invite(ticket=ticket, actor=SYSTEM)


@shared_task(name="surveys.run_due", ignore_result=True)
def run_due() -> dict[str, int]:
    """Every few minutes: delayed CSAT invitations, expiries, and the NPS campaigns whose time has come."""
    result = services.surveys_send_due(actor=SYSTEM)
    result["nps"] = services.nps_campaigns_run_due(actor=SYSTEM)
    return result
