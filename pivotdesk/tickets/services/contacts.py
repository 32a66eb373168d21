"""The tickets side of a contact merge: the source's tickets and messages move to the surviving contact."""

from __future__ import annotations

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Message, Ticket
from pivotdesk.tickets.services.timeline import record


def move_tickets_on_contact_merge(source: Contact, target: Contact, actor: Actor) -> None:
    """Re-point the source contact's tickets and messages to the target, with a timeline event on each ticket
    (the handler `customers.services.contact_merge` runs inside its transaction)."""
    authorize(actor, Perm.CONTACT_MERGE, workspace_id=source.workspace_id)
    tickets = list(Ticket.objects.filter(requester=source))
    for ticket in tickets:
        record(
            ticket=ticket,
            actor=actor,
            verb="requester_merged",
            field="requester",
            old={"id": source.pk, "name": source.display_name},
            new={"id": target.pk, "name": target.display_name},
        )
    Ticket.objects.filter(requester=source).update(requester=target, organization=target.organization)
    Message.objects.filter(author_contact=source).update(author_contact=target)
