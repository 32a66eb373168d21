"""Factories for tickets: built through the service so every invariant (number, timeline) holds."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import ticket_create


def make_ticket(
    *,
    workspace: Workspace,
    requester: Contact | None = None,
    subject: str = "Printer on fire",
    body: str = "It is on fire, please help.",
    **kwargs: Any,
) -> Ticket:
    """A ticket created through the service, from a (new) customer."""
    requester = requester or ContactFactory(workspace=workspace)
    actor = kwargs.pop("actor", None)
    if actor is None:  # a customer opens it; a ticket set up with an assignee arrives through the system
        assigned = kwargs.get("assignee") is not None
        actor = Actor.system("test") if assigned else Actor.for_contact(requester.pk, requester.display_name)
    return ticket_create(workspace=workspace, requester=requester, subject=subject, body=body, actor=actor, **kwargs)
