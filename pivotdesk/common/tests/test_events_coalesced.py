"""`events.coalesced`: a block's events are stored when it ends, each merged with a later one it says the same as
(one `ticket.updated` per ticket and kind of actor), in one insert; an exception stores none."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pivotdesk.common import events
from pivotdesk.common.models import EventRecord

pytestmark = pytest.mark.django_db


@dataclass(frozen=True, kw_only=True)
class TicketUpdated(events.Event):
    """Shaped like `tickets.events.TicketUpdated` (common may not import tickets); not registered."""

    name = "ticket.updated"
    ticket_id: int
    fields: list[str]
    actor_type: str = ""

    def merged(self, later: events.Event) -> events.Event | None:
        if not isinstance(later, TicketUpdated) or (later.ticket_id, later.actor_type) != (
            self.ticket_id,
            self.actor_type,
        ):
            return None
        fields = [*self.fields, *(f for f in later.fields if f not in self.fields)]
        return TicketUpdated(
            workspace_id=self.workspace_id, ticket_id=self.ticket_id, fields=fields, actor_type=self.actor_type
        )


@dataclass(frozen=True, kw_only=True)
class TicketStatusChanged(events.Event):
    """An event that does not merge (the default)."""

    name = "ticket.status_changed"
    ticket_id: int
    old: str
    new: str


def _updated(ticket_id: int, fields: list[str], actor_type: str = "rule") -> TicketUpdated:
    return TicketUpdated(workspace_id=1, ticket_id=ticket_id, fields=fields, actor_type=actor_type)


def test_updates_of_one_ticket_by_one_kind_of_actor_become_one_event_in_one_insert():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, events.coalesced():
        events.publish(_updated(7, ["tags"]))
        events.publish(TicketStatusChanged(workspace_id=1, ticket_id=7, old="new", new="open"))
        events.publish(_updated(7, ["priority", "tags"]))
        events.publish(_updated(8, ["tags"]))
        events.publish(_updated(7, ["team"], actor_type="agent"))
        assert not EventRecord.objects.exists()  # nothing stored before the block ends
    rows = list(EventRecord.objects.order_by("pk").values_list("name", "payload"))
    assert rows == [
        ("ticket.updated", {"ticket_id": 7, "fields": ["tags", "priority"], "actor_type": "rule"}),
        ("ticket.status_changed", {"ticket_id": 7, "old": "new", "new": "open"}),
        ("ticket.updated", {"ticket_id": 8, "fields": ["tags"], "actor_type": "rule"}),
        ("ticket.updated", {"ticket_id": 7, "fields": ["team"], "actor_type": "agent"}),
    ]
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "common_event"')]
    assert len(inserts) == 1


def test_an_exception_stores_nothing_and_a_nested_block_joins_the_outer_one():
    with pytest.raises(RuntimeError), transaction.atomic(), events.coalesced():
        events.publish(_updated(7, ["tags"]))
        raise RuntimeError("rolled back")
    assert not EventRecord.objects.exists()
    with transaction.atomic(), events.coalesced():
        events.publish(_updated(7, ["tags"]))
        with events.coalesced():
            events.publish(_updated(7, ["priority"]))
        assert not EventRecord.objects.exists()
    assert list(EventRecord.objects.values_list("payload", flat=True)) == [
        {"ticket_id": 7, "fields": ["tags", "priority"], "actor_type": "rule"}
    ]


def test_outside_a_block_each_event_is_stored_at_once():
    with transaction.atomic():
        events.publish(_updated(7, ["tags"]))
        events.publish(_updated(7, ["priority"]))
        assert EventRecord.objects.count() == 2
