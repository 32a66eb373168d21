"""The facts a rule reads: one flat snapshot of a ticket and the event being handled (`domain.conditions` names
the vocabulary). Built with a fixed number of queries whatever the rules ask, and only the costly parts the rules
use (the first message's text, the AI's sentiment, the requester's recent tickets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from pivotdesk.tickets.models import Message, Ticket

# Event names the rules speak (the `event` fact) from the desk's domain events.
EVENTS: dict[str, str] = {
    "ticket.created": "ticket.created",
    "ticket.updated": "ticket.updated",
    "ticket.status_changed": "ticket.updated",
    "ticket.assigned": "ticket.updated",
    "sla.warning": "sla.warning",
    "sla.breached": "sla.breach",
    "automation.approval_decided": "approval.decided",
    "automation.chain_stage_changed": "chain.stage_changed",
    "automation.business_event": "business_event",
}
REPEAT_DAYS = 7
TEXT_LIMIT = 20_000


def _hours(since: dt.datetime | None, at: dt.datetime) -> float | None:
    return None if since is None else max(0.0, (at - since).total_seconds() / 3600)


def _category_path(ticket: Ticket) -> list[int]:
    path: list[int] = []
    category = ticket.category
    while category is not None and len(path) < 10:
        path.insert(0, category.pk)
        category = category.parent
    return path


def _sentiment(ticket: Ticket) -> tuple[str, float | None]:
    from pivotdesk.ai.models import Prediction

    row = (
        Prediction.objects.filter(ticket=ticket, field="sentiment")
        .order_by("-created_at", "-pk")
        .values_list("value", "confidence")
        .first()
    )
    if row is None:
        return "", None
    value, confidence = row
    return (str(value or "").lower(), confidence)


def _body(ticket: Ticket, message: Message | None) -> str:
    if message is not None:
        return (message.body_text or "")[:TEXT_LIMIT]
    first = ticket.messages.order_by("created_at", "pk").values_list("body_text", flat=True).first()
    return (first or "")[:TEXT_LIMIT]


def _minutes_to_breach(ticket: Ticket, at: dt.datetime) -> float | None:
    return None if ticket.sla_due_at is None else (ticket.sla_due_at - at).total_seconds() / 60


def _business_hours(ticket: Ticket, at: dt.datetime) -> bool:
    from pivotdesk.common.calendars.calendar import is_open
    from pivotdesk.sla.calendars import domain_calendar
    from pivotdesk.sla.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(workspace_id=ticket.workspace_id, is_default=True).first()
    return True if row is None else is_open(domain_calendar(row), at)


def _recent_tickets(ticket: Ticket, at: dt.datetime) -> int:
    return (
        Ticket.objects.filter(
            workspace_id=ticket.workspace_id,
            requester_id=ticket.requester_id,
            created_at__gte=at - dt.timedelta(days=REPEAT_DAYS),
        )
        .exclude(pk=ticket.pk)
        .count()
    )


def build(
    ticket: Ticket,
    *,
    at: dt.datetime,
    event: str = "",
    event_type: str = "",
    changes: Mapping[str, list[Any]] | None = None,
    message: Message | None = None,
    needs: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The snapshot of `ticket` for rules at `at`. `needs` (the fields the rules use, `conditions.fields_used`)
    decides which costly facts are read; the cheap ones are always there."""
    need = set(needs)
    requester = ticket.requester
    facts: dict[str, Any] = {
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.ticket_type,
        "category": ticket.category_id,
        "channel": ticket.channel,
        "team": ticket.team_id,
        "assignee": ticket.assignee_id,
        "organization": ticket.organization_id,
        "tier": requester.effective_tier if requester is not None else "",
        "vip": bool(requester is not None and requester.effective_tier in ("vip", "strategic")),
        "language": ticket.language or (requester.language if requester is not None else ""),
        "tags": sorted(t.name for t in ticket.tags.all()),
        "sla_state": ticket.sla_state or "",
        "minutes_to_breach": _minutes_to_breach(ticket, at),
        "hours_since_created": _hours(ticket.created_at, at),
        "hours_since_updated": _hours(ticket.updated_at, at),
        "hours_since_customer_reply": _hours(ticket.last_customer_message_at, at),
        "event": event,
        "event_type": event_type,
        "changes": dict(changes or {}),
        "subject": ticket.subject or "",
    }
    for key, value in (ticket.custom_fields or {}).items():
        facts[f"cf.{key}"] = value
    if "category_path" in need:
        facts["category_path"] = _category_path(ticket)
    if need & {"sentiment", "sentiment_confidence"}:
        facts["sentiment"], facts["sentiment_confidence"] = _sentiment(ticket)
    if "body" in need:
        facts["body"] = _body(ticket, message)
    if "business_hours" in need:
        facts["business_hours"] = _business_hours(ticket, at)
    if "requester_recent_tickets" in need:
        facts["requester_recent_tickets"] = _recent_tickets(ticket, at)
    facts.update(extra or {})
    return facts


def all_fields() -> frozenset[str]:
    """Every costly fact (for a preview that shows everything)."""
    return frozenset(
        {"category_path", "sentiment", "sentiment_confidence", "body", "business_hours", "requester_recent_tickets"}
    )
