"""Who may be assigned is one rule (`permissions.check_assign`), applied by the services themselves."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.permissions import may_assign
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.customers.models import Contact
from pivotdesk.customers.services import contact_resolve
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import ticket_assign, ticket_create

pytestmark = pytest.mark.django_db


def test_ticket_create_refuses_a_light_agent_as_assignee(workspace, agent, contact):
    # given a light agent, who reads and writes notes but holds no tickets
    light = AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT)
    # when an agent opens a ticket assigned to them through the service (not the API)
    with pytest.raises(ValidationFailed) as refused:
        ticket_create(
            workspace=workspace, requester=contact, subject="Hi", actor=Actor.for_agent(agent), assignee=light
        )
    # then it is refused and no ticket exists
    assert refused.value.code == "not_assignable"
    assert not Ticket.objects.filter(subject="Hi").exists()


def test_ticket_create_refuses_an_inactive_assignee_even_for_the_system(workspace, contact):
    gone = AgentFactory(workspace=workspace, role=Role.AGENT, is_active=False)
    with pytest.raises(ValidationFailed):
        ticket_create(workspace=workspace, requester=contact, subject="Hi", actor=Actor.system(), assignee=gone)


def test_ticket_create_assigning_someone_else_needs_assign_others(workspace, contact):
    # a contact (the customer, through a channel) may open a ticket but not choose who handles it
    colleague = AgentFactory(workspace=workspace, role=Role.AGENT)
    customer = Actor.for_contact(contact.pk, contact.display_name)
    with pytest.raises(PermissionDenied):
        ticket_create(workspace=workspace, requester=contact, subject="Hi", actor=customer, assignee=colleague)


def test_a_refused_ticket_leaves_no_new_contact_when_created_in_one_transaction(workspace, light_agent):
    # given a light agent (no ticket.create, no contact.manage) typing a new customer's address
    actor = Actor.for_agent(light_agent)
    # when the requester is resolved first, as every interface does
    with pytest.raises(PermissionDenied):
        contact_resolve(workspace=workspace, actor=actor, kind="email", value="new@example.com")
    # then the gate refused before any write
    assert not Contact.objects.filter(email="new@example.com").exists()


def test_reassigning_applies_the_same_rule(workspace, agent, ticket):
    light = AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT)
    with pytest.raises(ValidationFailed):
        ticket_assign(ticket=ticket, assignee=light, actor=Actor.for_agent(agent))


def test_may_assign_answers_what_the_service_would_do(workspace, agent, light_agent):
    colleague = AgentFactory(workspace=workspace, role=Role.SUPERVISOR)
    assert may_assign(Actor.for_agent(agent), colleague)
    assert may_assign(Actor.for_agent(agent), agent)
    assert not may_assign(Actor.for_agent(agent), light_agent)
    assert not may_assign(Actor.for_agent(light_agent), light_agent)
    assert not may_assign(Actor.for_agent(light_agent), colleague)
