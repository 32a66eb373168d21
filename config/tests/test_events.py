"""Typed events and the relay: stored with the change, delivered at least once, a failed subscriber retried alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.common import events, relay
from pivotdesk.common.events import DispatchResult, DomainEvent
from pivotdesk.common.models import EventRecord, EventState
from pivotdesk.common.time import now
from pivotdesk.tickets.events import TicketCreated

pytestmark = pytest.mark.django_db


class Subscribers:
    """A dispatcher standing in for the subscriber table: records calls; names in `failing` raise."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.failing: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def __call__(self, event: DomainEvent, done: frozenset[str]) -> DispatchResult:
        result = DispatchResult()
        for name in self.names:
            if name in done:
                continue
            self.calls.append((name, event.id))
            if name in self.failing:
                result.failed[name] = "RuntimeError: down"
            else:
                result.done.append(name)
        return result


@pytest.fixture
def subscribers(settings: Any) -> Any:
    settings.PIVOTDESK_EVENTS_INLINE = False
    previous = events.get_dispatcher()
    fake = Subscribers("triage", "routing", "sla")
    events.set_dispatcher(fake)
    yield fake
    events.set_dispatcher(previous)


def test_every_app_declares_its_events_as_types():
    types = events.event_types()
    assert types["ticket.created"] is TicketCreated
    assert {"ticket.triaged", "contact.merged", "organization.updated", "agent.status_changed"} <= set(types)
    for name, cls in types.items():
        assert cls.name == name and cls.description


def test_an_unknown_event_or_a_wrong_field_is_refused_where_it_is_published(workspace):
    with pytest.raises(TypeError, match="unknown event"):
        events.publish("ticket.exploded", workspace_id=workspace.pk, ticket_id=1)
    with pytest.raises(TypeError):
        events.publish("ticket.created", workspace_id=workspace.pk, ticket_id=1)  # no channel
    with pytest.raises(TypeError):
        events.publish("ticket.created", workspace_id=workspace.pk, ticket_id=1, channel="email", colour="red")
    assert not EventRecord.objects.exists()


def test_an_event_is_stored_with_its_change_and_rolled_back_with_it(workspace, subscribers):
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=6, channel="email"))
        raise RuntimeError("the change failed")
    rows = list(EventRecord.objects.all())
    assert [(r.name, r.payload) for r in rows] == [("ticket.created", {"ticket_id": 5, "channel": "email"})]
    assert rows[0].state == EventState.PENDING and subscribers.calls == []


def test_the_relay_runs_every_subscriber_once_and_marks_the_event_done(workspace, subscribers):
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    assert relay.relay_batch() == 1
    assert relay.relay_batch() == 0  # nothing left
    row = EventRecord.objects.get()
    assert [name for name, _ in subscribers.calls] == ["triage", "routing", "sla"]
    assert {event_id for _, event_id in subscribers.calls} == {str(row.event_id)}
    assert row.state == EventState.DONE and row.processed_at is not None and row.attempts == 1


def test_a_failed_subscriber_is_retried_alone_after_a_back_off(workspace, subscribers, monkeypatch):
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    subscribers.failing = {"routing"}
    relay.relay_batch()
    row = EventRecord.objects.get()
    assert row.state == EventState.PENDING and row.done_subscribers == ["sla", "triage"]
    assert "routing: RuntimeError: down" in row.last_error
    assert row.next_attempt_at is not None and row.next_attempt_at > now()
    assert relay.relay_batch() == 0  # not due yet

    subscribers.failing = set()
    subscribers.calls.clear()
    EventRecord.objects.update(next_attempt_at=now() - dt.timedelta(seconds=1))
    assert relay.relay_batch() == 1
    assert [name for name, _ in subscribers.calls] == ["routing"]
    assert EventRecord.objects.get().state == EventState.DONE


def test_an_event_that_keeps_failing_ends_failed_with_its_reason_and_can_be_retried(workspace, subscribers, settings):
    settings.PIVOTDESK_EVENTS_MAX_ATTEMPTS = 2
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    subscribers.failing = {"sla"}
    for _ in range(2):
        EventRecord.objects.update(next_attempt_at=None)
        relay.relay_batch()
    row = EventRecord.objects.get()
    assert row.state == EventState.FAILED and "sla: RuntimeError: down" in row.last_error

    subscribers.failing = set()
    assert relay.retry_failed() == 1
    relay.relay_batch()
    assert EventRecord.objects.get().state == EventState.DONE


def test_a_claimed_event_is_not_taken_by_another_relay_until_its_lease_runs_out(workspace, subscribers):
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    claimed = relay._claim(ids=None, limit=10)  # a relay takes it, then dies before delivering
    assert len(claimed) == 1
    assert relay.relay_batch() == 0  # another relay skips the leased row
    EventRecord.objects.update(lease_until=now() - dt.timedelta(seconds=1))
    assert relay.relay_batch() == 1  # after the lease, it is delivered
    row = EventRecord.objects.get()
    assert row.state == EventState.DONE and row.attempts == 2


def test_events_held_back_are_not_stored(workspace, subscribers):
    with events.held_back():
        events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=5, channel="email"))
    assert not EventRecord.objects.exists()


def test_old_delivered_events_are_pruned_and_pending_ones_kept(workspace, subscribers):
    for ticket_id in (1, 2):
        events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=ticket_id, channel="email"))
    relay._deliver(relay._claim(ids=[EventRecord.objects.order_by("id").first().pk], limit=1))
    EventRecord.objects.filter(state=EventState.DONE).update(processed_at=now() - dt.timedelta(days=30))
    assert relay.prune(older_than=dt.timedelta(days=7)) == 1
    assert list(EventRecord.objects.values_list("state", flat=True)) == [EventState.PENDING]


@given(st.integers(min_value=1, max_value=60))
def test_a_failed_event_waits_with_the_outboxes_back_off_from_2_s_to_15_min(attempts):
    ceiling = min(2.0 * 2 ** (attempts - 1), 900.0)
    assert ceiling / 2 <= relay.retry_delay(attempts) <= ceiling


def test_an_idle_poll_is_one_read_and_opens_no_transaction(workspace, subscribers, django_assert_num_queries):
    with django_assert_num_queries(1) as ctx:
        assert relay.relay_batch() == 0
    assert ctx.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")
