"""Celery tasks of oncall: thin, take the event dict or ids, call one service, safe to rerun."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
SYSTEM = Actor.system("on-call")


def _ticket(event: dict[str, Any]) -> Ticket | None:
    payload = event.get("payload") or {}
    ticket_id, workspace_id = payload.get("ticket_id"), event.get("workspace_id")
    if not isinstance(ticket_id, int) or not isinstance(workspace_id, int):
        return None
    return Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).select_related("workspace").first()


@shared_task(name="oncall.page_on_event", ignore_result=True)
def page_on_event(event: dict[str, Any]) -> None:
    """ticket.created / ticket.updated → page when an escalation policy matches (after triage set the priority)."""
    from pivotdesk.oncall.services.paging import page_ticket

    ticket = _ticket(event)
    if ticket is not None:
        page_ticket(actor=SYSTEM, ticket=ticket)


@shared_task(name="oncall.after_hours_on_event", ignore_result=True)
def after_hours_on_event(event: dict[str, Any]) -> None:
    """ticket.created outside business hours → the auto-reply (after paging, so it can say the engineer is paged)."""
    from pivotdesk.oncall.services.afterhours import after_hours_reply

    ticket = _ticket(event)
    if ticket is not None:
        after_hours_reply(actor=SYSTEM, ticket=ticket, at=now())


@shared_task(name="oncall.person_asked_on_event", ignore_result=True)
def person_asked_on_event(event: dict[str, Any]) -> None:
    """message.created from the customer → "人工" / "human" after the after-hours reply hands it to a person."""
    from pivotdesk.oncall.services.afterhours import person_requested
    from pivotdesk.tickets.models import Message

    ticket = _ticket(event)
    message_id = (event.get("payload") or {}).get("message_id")
    if ticket is None or not isinstance(message_id, int):
        return
    message = Message.objects.filter(pk=message_id, ticket=ticket).first()
    if message is not None:
        person_requested(actor=SYSTEM, ticket=ticket, message=message, at=now())


@shared_task(name="oncall.escalate_due", ignore_result=True)
def escalate_due() -> int:
    """Beat: pages whose acknowledgement timeout passed climb one level (exactly once)."""
    from pivotdesk.oncall.services.paging import escalate_due as run

    return run(actor=SYSTEM)
