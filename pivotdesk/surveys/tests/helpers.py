"""Shared set-up of the survey tests: a solved ticket and its CSAT survey, through the services."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.customers.models import Contact
from pivotdesk.surveys import services
from pivotdesk.surveys.models import Survey
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.services import ticket_set_status, ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

SYSTEM = Actor.system("test")


def solve(ticket: Ticket) -> Ticket:
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=SYSTEM)
    ticket.refresh_from_db()
    return ticket


def solved_ticket(
    workspace: Workspace, *, requester: Contact | None = None, agent: AgentProfile | None = None, **kwargs: Any
) -> Ticket:
    ticket = make_ticket(workspace=workspace, requester=requester, **kwargs)
    if agent is not None:
        ticket_update(ticket=ticket, actor=SYSTEM, changes={"assignee": agent})
    return solve(ticket)


def csat(workspace: Workspace, **kwargs: Any) -> Survey:
    survey = services.csat_invite(ticket=solved_ticket(workspace, **kwargs), actor=SYSTEM)
    assert survey is not None
    return survey


def contact_actor(survey: Survey) -> Actor:
    return Actor.for_contact(survey.contact_id, "customer")
