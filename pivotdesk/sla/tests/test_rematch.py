"""A contact's tier change (or a contact merge) re-matches the contact's unsolved tickets at the next scan: the
subscriber marks them for recheck with one UPDATE, the scanner moves them to the policy that now applies.

Calendar: Mon–Fri 09–12, 13–18 Shanghai; the clock starts Monday 2026-03-02 09:00."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers.services import contact_merge, contact_update
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.sla.models import TicketSLA
from pivotdesk.sla.selectors import event_may_rematch_contact
from pivotdesk.sla.services import recheck_contact_tickets, sla_apply, sla_scan_due
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_targets
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.services import ticket_set_status
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def policies(workspace):
    CalendarFactory(workspace=workspace, is_default=True)
    vip = PolicyFactory(workspace=workspace, name="VIP", position=0, conditions={"tiers": ["vip"]})
    add_targets(vip, "normal", first_reply=30)
    standard = PolicyFactory(workspace=workspace, name="Standard", position=1)
    add_targets(standard, "normal", first_reply=120)
    return {"vip": vip, "standard": standard}


def policy_of(ticket: Ticket) -> str:
    policy = TicketSLA.objects.select_related("policy").get(ticket=ticket, metric="first_reply").policy
    return policy.name if policy is not None else ""


def test_a_tier_change_rematches_the_contacts_open_tickets_at_the_next_scan(
    clock, workspace, policies, agent, django_capture_on_commit_callbacks
):
    person = ContactFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket = make_ticket(workspace=workspace, requester=person)
        solved = make_ticket(workspace=workspace, requester=person)
        ticket_set_status(ticket=solved, status="solved", actor=Actor.for_agent(agent))
        others = make_ticket(workspace=workspace)
    assert policy_of(open_ticket) == "Standard"
    solved.refresh_from_db()
    solved_check = solved.sla_next_check_at

    clock.set(at(2, 9, 10))
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(actor=Actor.system(), contact=person, tier="vip")
    open_ticket.refresh_from_db()
    assert open_ticket.sla_next_check_at == at(2, 9, 10)  # marked for the scanner, not recomputed in the request
    solved.refresh_from_db()
    assert solved.sla_next_check_at == solved_check  # a solved ticket keeps the policy it was measured by
    others.refresh_from_db()
    assert others.sla_next_check_at == at(2, 10, 30)  # its 75 % warning, untouched

    sla_scan_due(actor=Actor.system(), now=at(2, 9, 10))
    assert policy_of(open_ticket) == "VIP"
    open_ticket.refresh_from_db()
    assert open_ticket.sla_due_at == at(2, 9, 30)  # 30 minutes from creation
    assert TicketEvent.objects.filter(ticket=open_ticket, verb="sla_policy_changed").last().data["text"] == (
        "SLA policy Standard → VIP"
    )


def test_a_contact_merge_rematches_the_moved_tickets(
    clock, workspace, policies, agent, django_capture_on_commit_callbacks
):
    vip_person = ContactFactory(workspace=workspace, tier="vip")
    duplicate = ContactFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=duplicate)
    assert policy_of(ticket) == "Standard"
    clock.set(at(2, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        contact_merge(source=duplicate, target=vip_person, actor=Actor.system())
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == at(2, 9, 5)
    sla_scan_due(actor=Actor.system(), now=at(2, 9, 5))
    assert policy_of(ticket) == "VIP"


def test_an_organizations_tier_change_rematches_its_open_tickets(
    clock, workspace, policies, django_capture_on_commit_callbacks
):
    from pivotdesk.customers.services import organization_update

    org = OrganizationFactory(workspace=workspace, tier="standard")
    member = ContactFactory(workspace=workspace, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=member)
        outsider = make_ticket(workspace=workspace)
    assert policy_of(ticket) == "Standard"
    outsider.refresh_from_db()
    outsider_check = outsider.sla_next_check_at
    clock.set(at(2, 9, 7))
    with django_capture_on_commit_callbacks(execute=True):
        organization_update(
            actor=Actor.system(), organization=org, notes="renamed nothing"
        )  # no tier change: nothing to re-match
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at != at(2, 9, 7)
    with django_capture_on_commit_callbacks(execute=True):
        organization_update(actor=Actor.system(), organization=org, tier="vip")
    ticket.refresh_from_db()
    outsider.refresh_from_db()
    assert ticket.sla_next_check_at == at(2, 9, 7) and outsider.sla_next_check_at == outsider_check
    sla_scan_due(actor=Actor.system(), now=at(2, 9, 7))
    assert policy_of(ticket) == "VIP"


def test_recheck_is_one_update(clock, workspace, policies):
    person = ContactFactory(workspace=workspace)
    tickets = [make_ticket(workspace=workspace, requester=person) for _ in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        assert recheck_contact_tickets(actor=Actor.system(), workspace_id=workspace.pk, contact_id=person.pk) == 3
    assert len(ctx.captured_queries) == 1
    assert all(t.sla_next_check_at == at(2, 9, 0) for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]))


def test_only_policies_that_look_at_the_customer_make_contact_events_worth_a_task(workspace, other_workspace):
    org = OrganizationFactory(workspace=workspace)

    def event(name, ws=workspace, **payload):
        return {"name": name, "workspace_id": ws.pk, "payload": payload}

    assert not event_may_rematch_contact(event("contact.updated", contact_id=1))  # no policy at all
    PolicyFactory(workspace=workspace, name="Orgs", conditions={"organization_ids": [org.pk]})
    assert not event_may_rematch_contact(event("contact.updated", contact_id=1))  # a contact's own org: no
    assert event_may_rematch_contact(event("contact.merged", source_id=1, target_id=2))  # tickets move org
    PolicyFactory(workspace=workspace, name="Tiers", conditions={"tiers": ["vip"]}, active=False)
    assert not event_may_rematch_contact(event("contact.updated", contact_id=1))  # inactive
    PolicyFactory(workspace=workspace, name="Gold", conditions={"tiers": ["vip"]})
    assert event_may_rematch_contact(event("contact.updated", contact_id=1))
    assert not event_may_rematch_contact(event("contact.updated", ws=other_workspace, contact_id=1))


def test_a_policy_change_of_a_ticket_without_clocks_is_one_entry(clock, workspace, policies):
    """A ticket of a tier no policy covered gets its first clocks later: one "SLA policy → X" entry with its
    targets, not one per metric."""
    policies["standard"].delete()
    ticket = make_ticket(workspace=workspace)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    assert not TicketSLA.objects.filter(ticket=ticket).exists()
    ticket.requester.tier = "vip"
    ticket.requester.save()
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 1))
    entries = TicketEvent.objects.filter(ticket=ticket, verb__startswith="sla_")
    assert [(e.verb, e.data["text"]) for e in entries] == [
        ("sla_policy_changed", "SLA policy → VIP: first reply 30 min (due 09:30)")
    ]
    assert entries[0].new_value["targets"] == [
        {"metric": "first_reply", "minutes": 30, "business_hours": True, "due_at": "2026-03-02T09:30:00+08:00"}
    ]
