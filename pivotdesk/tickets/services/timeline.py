"""Recording timeline events: nothing about a ticket changes silently."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket, TicketEvent


def build(
    *,
    ticket: Ticket,
    actor: Actor,
    verb: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """One timeline event, not saved yet (for callers that insert many at once with bulk_create)."""
    return TicketEvent(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        created_at=now(),
        actor_type=actor.kind,
        actor_agent=actor.agent,
        actor_label=actor.display,
        verb=verb,
        field=field,
        old_value=old,
        new_value=new,
        data=data or {},
    )


def record(
    *,
    ticket: Ticket,
    actor: Actor,
    verb: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append one event to the ticket's timeline."""
    event = build(ticket=ticket, actor=actor, verb=verb, field=field, old=old, new=new, data=data)
    event.save(force_insert=True)
    return event


def ref(obj: Any) -> dict[str, Any] | None:
    """A small JSON reference to a related object for old/new values ({id, name})."""
    if obj is None:
        return None
    name = getattr(obj, "name", None) or str(obj)
    return {"id": obj.pk, "name": name}
