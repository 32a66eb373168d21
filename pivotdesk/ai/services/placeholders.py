"""The placeholder values of a ticket, shared by every template that fills them: macros, trigger replies, chain
texts (automation) and solution templates (knowledge). The syntax and the renderer are
`pivotdesk.common.domain.placeholders`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.tickets.models import Ticket

__all__ = ["KNOWN_PLACEHOLDERS", "values_for"]


def values_for(ticket: Ticket, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The placeholder context of a ticket: ticket.*, requester.*, the entities the AI extracted or the
    enrichment connectors returned (order.status …), and whatever the event carries (event.*)."""
    requester = ticket.requester
    values: dict[str, Any] = {
        "ticket.number": ticket.number,
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.get_status_display(),
        "ticket.priority": ticket.get_priority_display(),
        "requester.name": requester.display_name if requester is not None else "",
        "requester.email": requester.email if requester is not None else "",
        "assignee.name": ticket.assignee.name if ticket.assignee_id and ticket.assignee else "",
    }
    for kind, value, enrichment in (
        ExtractedEntity.objects.filter(ticket=ticket).order_by("pk").values_list("kind", "value", "enrichment")[:50]
    ):
        values.setdefault(f"entity.{kind}", value)
        base = kind.removesuffix("_number").removesuffix("_id")  # order_number → order.status, order.eta …
        values.setdefault(f"{base}.number", value)
        for key, found in (enrichment or {}).items() if isinstance(enrichment, dict) else ():
            if isinstance(found, str | int | float):
                values.setdefault(f"{base}.{key}", found)
    for key, value in (ticket.custom_fields or {}).items():
        values[f"ticket.{key}"] = value
    values.update(extra or {})
    return values


KNOWN_PLACEHOLDERS = frozenset(
    {
        "ticket.number",
        "ticket.subject",
        "ticket.status",
        "ticket.priority",
        "requester.name",
        "requester.email",
        "assignee.name",
        "ticket.*",
        "entity.*",
        "order.*",
        "event.*",
        "chain.*",
    }
)
