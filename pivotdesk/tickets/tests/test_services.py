"""Ticket services: creation, numbering, status rules, messages, links, merge, timeline, events."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.events import record_events
from pivotdesk.tickets import services
from pivotdesk.tickets.models import Message, Status, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket


def test_numbers_are_per_workspace_and_increasing(workspace, other_workspace):
    a1 = make_ticket(workspace=workspace)
    a2 = make_ticket(workspace=workspace)
    b1 = make_ticket(workspace=other_workspace)
    assert (a1.number, a2.number) == (10001, 10002)
    assert b1.number == 10001


def test_create_records_timeline_first_message_and_event(workspace, contact, django_capture_on_commit_callbacks):
    with record_events() as events, django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=contact, tags=["VIP", "打印机"])
    assert ticket.messages.count() == 1
    first = ticket.messages.get()
    assert first.author_type == "contact" and first.author_contact_id == contact.pk
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["vip", "打印机"]
    assert TicketEvent.objects.filter(ticket=ticket, verb="created").exists()
    assert [e.name for e in events if e.name == "ticket.created"] == ["ticket.created"]
    assert events[0].name == "ticket.created"  # published first, after commit


def test_agent_reply_sets_first_response_and_opens(ticket, actor):
    services.message_create(ticket=ticket, actor=actor, body="We are on it.")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_response_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, verb="status_changed", old_value="new", new_value="open").exists()


def test_customer_reply_reopens_solved_ticket(ticket, actor, contact):
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=actor)
    services.message_create(ticket=ticket, actor=Actor.for_contact(contact.pk), body="Still broken", as_customer=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.solved_at is None


def test_invalid_transition_is_rejected_with_reason(ticket, actor):
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=actor)
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=actor)
    with pytest.raises(Conflict) as exc:
        services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=actor)
    assert "closed" in exc.value.message.lower()


def test_parent_cannot_be_solved_while_child_open(workspace, actor):
    parent = make_ticket(workspace=workspace)
    child = make_ticket(workspace=workspace)
    services.ticket_set_parent(child=child, parent=parent, actor=actor)
    with pytest.raises(Conflict, match=f"#{child.number}"):
        services.ticket_set_status(ticket=parent, status=Status.SOLVED, actor=actor)
    services.ticket_set_status(ticket=child, status=Status.SOLVED, actor=actor)
    services.ticket_set_status(ticket=parent, status=Status.SOLVED, actor=actor)


def test_parent_cycle_refused(workspace, actor):
    a, b = make_ticket(workspace=workspace), make_ticket(workspace=workspace)
    services.ticket_set_parent(child=b, parent=a, actor=actor)
    a.refresh_from_db()
    b.refresh_from_db()
    with pytest.raises(ValidationFailed):
        services.ticket_set_parent(child=a, parent=b, actor=actor)


def test_merge_moves_messages_and_points_to_survivor(workspace, actor):
    source = make_ticket(workspace=workspace, tags=["a"])
    target = make_ticket(workspace=workspace, tags=["b"])
    services.message_create(ticket=source, actor=actor, body="note", kind="note")
    survivor = services.ticket_merge(source=source, target=target, actor=actor)
    source.refresh_from_db()
    assert source.merged_into_id == survivor.pk and source.status == Status.CLOSED
    assert survivor.messages.filter(kind__in=["public", "note"]).count() == 3
    assert set(survivor.tags.values_list("name", flat=True)) == {"a", "b"}
    # a reply to the merged ticket lands on the survivor
    msg = services.message_create(ticket=source, actor=actor, body="late reply")
    assert msg.ticket_id == survivor.pk


def test_custom_fields_validated(workspace, ticket, actor):
    services.custom_field_create(
        actor=Actor.system(),
        workspace=workspace,
        key="severity",
        label="Severity",
        field_type="select",
        options=["S1", "S2"],
    )
    services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="units", label="Units", field_type="number"
    )
    services.ticket_update(ticket=ticket, actor=actor, changes={"custom_fields": {"severity": "S1", "units": "3"}})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"severity": "S1", "units": 3}
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_update(ticket=ticket, actor=actor, changes={"custom_fields": {"severity": "S9", "nope": 1}})
    assert set(exc.value.details["custom_fields"]) == {"severity", "nope"}


def test_every_change_is_on_the_timeline(ticket, actor, agent):
    services.ticket_update(
        ticket=ticket, actor=actor, changes={"priority": "urgent", "assignee": agent.pk, "add_tags": ["x"]}
    )
    fields = set(TicketEvent.objects.filter(ticket=ticket).values_list("field", flat=True))
    assert {"priority", "assignee", "tags"} <= fields
    ev = TicketEvent.objects.get(ticket=ticket, field="priority")
    assert (ev.old_value, ev.new_value, ev.actor_agent_id) == ("normal", "urgent", agent.pk)


def test_light_agent_may_only_write_notes(ticket, light_agent):
    actor = Actor.for_agent(light_agent)
    with pytest.raises(PermissionDenied):
        services.message_create(ticket=ticket, actor=actor, body="hi")
    services.message_create(ticket=ticket, actor=actor, body="fyi", kind="note")
    with pytest.raises(PermissionDenied):
        services.ticket_update(ticket=ticket, actor=actor, changes={"priority": "high"})


def test_same_external_id_gives_one_message(ticket, contact):
    actor = Actor.for_contact(contact.pk)
    m1 = services.message_create(
        ticket=ticket, actor=actor, body="x", as_customer=True, channel="email", external_id="<abc@mail>"
    )
    m2 = services.message_create(
        ticket=ticket, actor=actor, body="x", as_customer=True, channel="email", external_id="<abc@mail>"
    )
    assert m1.pk == m2.pk
    assert Message.objects.filter(external_id="<abc@mail>").count() == 1


def test_html_is_sanitized(ticket, actor):
    m = services.message_create(
        ticket=ticket, actor=actor, body_html='<p onclick="x()">Hi<script>alert(1)</script></p>'
    )
    assert "script" not in m.body_html and "onclick" not in m.body_html
    assert m.body_text == "Hi"


def test_attachment_limits(ticket, settings):
    settings.PIVOTDESK_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed, match="larger"):
        services.attachment_add(actor=Actor.system(), ticket=ticket, filename="big.txt", content=b"x" * 11)
    with pytest.raises(ValidationFailed, match="not accepted"):
        services.attachment_add(actor=Actor.system(), ticket=ticket, filename="evil.exe", content=b"MZ")
    att = services.attachment_add(actor=Actor.system(), ticket=ticket, filename="../../ok.txt", content=b"hello")
    assert att.filename == "ok.txt" and att.size == 5
