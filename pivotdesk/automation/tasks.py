"""Celery tasks of automation: thin, take the event dict, call one service, safe to rerun."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor

SYSTEM = Actor.system("automation")


@shared_task(name="automation.triggers_on_event", ignore_result=True)
def triggers_on_event(event: dict[str, Any]) -> None:
    """ticket.created / ticket.updated / message.created → the trigger cycle (after triage, before routing)."""
    from pivotdesk.automation.services.triggers import run_for_event

    run_for_event(actor=SYSTEM, event=event)


@shared_task(name="automation.time_rules", ignore_result=True)
def time_rules() -> int:
    """Beat (hourly): time rules over the tickets they may match, each firing once per period."""
    from pivotdesk.automation.services.triggers import sweep

    return sweep(actor=SYSTEM)


def _ticket(event: dict[str, Any]) -> Any:
    from pivotdesk.tickets.models import Ticket

    payload = event.get("payload") or {}
    ticket_id, workspace_id = payload.get("ticket_id"), event.get("workspace_id")
    if not isinstance(ticket_id, int) or not isinstance(workspace_id, int):
        return None
    return Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).select_related("workspace").first()


@shared_task(name="automation.chain_on_status", ignore_result=True)
def chain_on_status(event: dict[str, Any]) -> None:
    """ticket.status_changed to solved/closed → the chain stage it holds is done; the next stage opens."""
    from pivotdesk.automation.services.chains import on_ticket_solved

    ticket = _ticket(event)
    if ticket is not None:
        on_ticket_solved(actor=SYSTEM, ticket=ticket)


@shared_task(name="automation.approval_on_reply", ignore_result=True)
def approval_on_reply(event: dict[str, Any]) -> None:
    """message.created from the requester → an approval sent back to them is resubmitted at that stage."""
    from pivotdesk.automation.services.approvals import resubmit_on_customer_reply

    ticket = _ticket(event)
    if ticket is not None:
        resubmit_on_customer_reply(actor=SYSTEM, ticket=ticket)


@shared_task(name="automation.chain_delays", ignore_result=True)
def chain_delays() -> int:
    """Beat: chain stages open longer than expected are announced once (rules open side tickets on it)."""
    from pivotdesk.automation.services.chains import report_delays

    return report_delays(actor=SYSTEM)


@shared_task(name="automation.appeasement_outcome", ignore_result=True)
def appeasement_outcome(event: dict[str, Any]) -> None:
    """After appeasing: the customer's next words (a complaint phrase) or the ticket solved set the outcome."""
    from pivotdesk.automation.services.appeasement import outcome_on_event
    from pivotdesk.tickets.models import Message

    ticket = _ticket(event)
    if ticket is None:
        return
    payload = event.get("payload") or {}
    text = ""
    if event.get("name") == "message.created" and isinstance(payload.get("message_id"), int):
        text = (
            Message.objects.filter(pk=payload["message_id"], ticket=ticket).values_list("body_text", flat=True).first()
            or ""
        )
    solved = event.get("name") == "ticket.status_changed" and payload.get("new") in ("solved", "closed")
    outcome_on_event(actor=SYSTEM, ticket=ticket, customer_text=text, solved=solved)
