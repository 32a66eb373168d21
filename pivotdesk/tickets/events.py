"""The ticket domain's events, published after commit. Who reacts is listed in `config.subscribers`."""

from __future__ import annotations

from typing import Any

from pivotdesk.common.events import publish

TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_MERGED = "ticket.merged"
TICKET_LINKED = "ticket.linked"
MESSAGE_CREATED = "message.created"

ALL_EVENTS = (
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_ASSIGNED,
    TICKET_STATUS_CHANGED,
    TICKET_MERGED,
    TICKET_LINKED,
    MESSAGE_CREATED,
    "contact.created",
    "contact.updated",
    "contact.merged",
    "organization.updated",
    "agent.status_changed",
)


def emit(name: str, *, workspace_id: int, ticket_id: int, **payload: Any) -> None:
    """Publish a ticket event after the current transaction commits."""
    publish(name, workspace_id=workspace_id, ticket_id=ticket_id, **payload)
