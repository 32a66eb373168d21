"""The AI app's events: typed, stored with the change."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class TicketTriaged(Event):
    name = "ticket.triaged"
    description = "AI triage of a new ticket finished (fields set, or it abstained; ran is false when it did not run)."
    ticket_id: int
    ran: bool
