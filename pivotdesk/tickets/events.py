"""The ticket domain's events: typed, stored with the change, relayed after commit. Reactions: `config.subscribers`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pivotdesk.common.events import Event, publish, register

TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_MERGED = "ticket.merged"
TICKET_LINKED = "ticket.linked"
MESSAGE_CREATED = "message.created"


@register
@dataclass(frozen=True, kw_only=True)
class TicketCreated(Event):
    name = TICKET_CREATED
    description = "A ticket was created (from any channel, the API or an agent)."
    ticket_id: int
    channel: str


@register
@dataclass(frozen=True, kw_only=True)
class TicketUpdated(Event):
    name = TICKET_UPDATED
    description = "Fields of a ticket changed (priority, category, tags, custom fields…)."
    ticket_id: int
    fields: list[str]
    #: Who made the change: agent | contact | rule | ai | api | system (`accounts.actors.Actor.kind`); "" in events
    #: stored before it was added. Lets a subscriber skip the AI's or the system's own changes without a query.
    actor_type: str = ""

    def merged(self, later: Event) -> Event | None:
        """Two updates of one ticket by the same kind of actor in one `coalesced` block: one event, the fields of
        both (in the order they first changed)."""
        if not isinstance(later, TicketUpdated) or (later.ticket_id, later.actor_type) != (
            self.ticket_id,
            self.actor_type,
        ):
            return None
        fields = [*self.fields, *(f for f in later.fields if f not in self.fields)]
        return TicketUpdated(
            workspace_id=self.workspace_id, ticket_id=self.ticket_id, fields=fields, actor_type=self.actor_type
        )


@register
@dataclass(frozen=True, kw_only=True)
class TicketAssigned(Event):
    name = TICKET_ASSIGNED
    description = "A ticket was assigned to an agent, or unassigned (assignee_id null)."
    ticket_id: int
    assignee_id: int | None


@register
@dataclass(frozen=True, kw_only=True)
class TicketStatusChanged(Event):
    name = TICKET_STATUS_CHANGED
    description = "A ticket's status changed (old → new)."
    ticket_id: int
    old: str
    new: str


@register
@dataclass(frozen=True, kw_only=True)
class TicketMerged(Event):
    name = TICKET_MERGED
    description = "A ticket (source_id) was merged into another (ticket_id)."
    ticket_id: int
    source_id: int


@register
@dataclass(frozen=True, kw_only=True)
class TicketLinked(Event):
    name = TICKET_LINKED
    description = "Two tickets were linked (related, duplicate of)."
    ticket_id: int
    target_id: int
    kind: str


@register
@dataclass(frozen=True, kw_only=True)
class MessageCreated(Event):
    name = MESSAGE_CREATED
    description = "A message was added to a ticket (customer or agent, public or internal note)."
    ticket_id: int
    message_id: int
    kind: str
    author_type: str
    channel: str


def emit(name: str, *, workspace_id: int, ticket_id: int, **payload: Any) -> None:
    """Store a ticket event in the current transaction (the relay delivers it after commit)."""
    publish(name, workspace_id=workspace_id, ticket_id=ticket_id, **payload)
