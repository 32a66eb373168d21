"""Read-only queries of automation used by other parts of the desk (cheap checks before queueing a task)."""

from __future__ import annotations

from typing import Any

from pivotdesk.automation.models import Rule, RuleKind


def event_may_trigger(event: dict[str, Any]) -> bool:
    """Skip the trigger task when the workspace has no active trigger, or the change was a rule's own."""
    payload = event.get("payload") or {}
    if payload.get("actor_type") == "rule":
        return False
    if event.get("name") == "message.created" and payload.get("author_type") not in ("contact", "agent"):
        return False
    workspace_id = event.get("workspace_id")
    if not isinstance(workspace_id, int):
        return True  # let the task decide (it finds nothing)
    return Rule.objects.filter(workspace_id=workspace_id, kind=RuleKind.TRIGGER, active=True).exists()


def event_closes_stage(event: dict[str, Any]) -> bool:
    """ticket.status_changed: only solved or closed can finish a chain stage, and only a chain's ticket."""
    from pivotdesk.automation.models import ChainStage

    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if payload.get("new") not in ("solved", "closed") or not isinstance(ticket_id, int):
        return False
    return ChainStage.objects.filter(ticket_id=ticket_id).exists()


def event_may_resubmit(event: dict[str, Any]) -> bool:
    """message.created by the customer on a ticket whose approval was sent back to them."""
    from pivotdesk.automation.models import Approval, ApprovalStatus

    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if payload.get("author_type") != "contact" or not isinstance(ticket_id, int):
        return False
    return Approval.objects.filter(ticket_id=ticket_id, status=ApprovalStatus.CHANGES_REQUESTED).exists() or (
        Approval.objects.filter(ticket_id=ticket_id, status=ApprovalStatus.REJECTED).exists()
    )


def event_may_settle_appeasement(event: dict[str, Any]) -> bool:
    """A customer's message, or a ticket solved or closed, on a ticket whose appeasement has no outcome yet."""
    from pivotdesk.automation.models import Appeasement, AppeasementOutcome

    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if not isinstance(ticket_id, int):
        return False
    if event.get("name") == "message.created" and payload.get("author_type") != "contact":
        return False
    if event.get("name") == "ticket.status_changed" and payload.get("new") not in ("solved", "closed"):
        return False
    return Appeasement.objects.filter(ticket_id=ticket_id, outcome=AppeasementOutcome.OPEN).exists()
