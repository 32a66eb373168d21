"""Live-update plumbing (`common/live.py`): a commit that stores events wakes the streams of this process (and of
every process through Redis when configured); a stream's cursor reads only its workspace's events, once each, also
when rows commit out of id order."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

import pytest
from django.db import transaction

from pivotdesk.common import live
from pivotdesk.common.models import EventRecord
from pivotdesk.tickets.tests.factories import make_ticket


def _row(workspace_id: int, *, pk: int | None = None, ticket_id: int = 1, name: str = "ticket.updated") -> EventRecord:
    return EventRecord.objects.create(
        id=pk, event_id=uuid.uuid4(), name=name, workspace_id=workspace_id, payload={"ticket_id": ticket_id}
    )


def test_wait_returns_as_soon_as_another_thread_wakes_it() -> None:
    seen = live.version()
    threading.Timer(0.05, live.wake, args=([1],)).start()
    started = time.monotonic()
    assert live.wait(seen, 5.0) > seen
    assert time.monotonic() - started < 2.0


def test_wait_gives_up_after_its_timeout_without_a_change() -> None:
    seen = live.version()
    started = time.monotonic()
    assert live.wait(seen, 0.1) == seen
    assert time.monotonic() - started >= 0.09


def test_wake_with_nothing_to_tell_changes_nothing() -> None:
    seen = live.version()
    live.wake([])
    assert live.version() == seen


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_wakes_the_streams_and_a_rolled_back_one_does_not(workspace) -> None:
    seen = live.version()
    try:
        with transaction.atomic():
            make_ticket(workspace=workspace)
            assert live.version() == seen  # not before the commit
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert live.version() == seen
    with transaction.atomic():
        make_ticket(workspace=workspace)
    assert live.version() > seen


@pytest.mark.django_db
def test_the_cursor_reads_its_workspace_once_each_oldest_first(workspace, other_workspace) -> None:
    cursor = live.Cursor(live.latest_id())
    mine = [_row(workspace.pk, ticket_id=n) for n in (11, 12)]
    _row(other_workspace.pk, ticket_id=99)
    changes = cursor.read(workspace.pk)
    assert [(c.id, c.ticket_id) for c in changes] == [(mine[0].pk, 11), (mine[1].pk, 12)]
    assert cursor.read(workspace.pk) == []  # nothing twice
    third = _row(workspace.pk, ticket_id=13)
    assert [c.ticket_id for c in cursor.read(workspace.pk)] == [13] and cursor.after == third.pk


@pytest.mark.django_db
def test_a_row_that_commits_after_a_newer_one_is_still_read(workspace) -> None:
    """PostgreSQL hands out ids before commit: id n+1 may be visible before id n. The cursor looks back."""
    base = live.latest_id() + 10
    cursor = live.Cursor(base)
    _row(workspace.pk, pk=base + 2, ticket_id=2)
    assert [c.ticket_id for c in cursor.read(workspace.pk)] == [2]
    _row(workspace.pk, pk=base + 1, ticket_id=1)  # the older transaction commits late
    assert [c.ticket_id for c in cursor.read(workspace.pk)] == [1]
    assert cursor.read(workspace.pk) == []


@pytest.mark.django_db
def test_an_event_without_a_ticket_is_read_without_one(workspace) -> None:
    cursor = live.Cursor(live.latest_id())
    EventRecord.objects.create(
        event_id=uuid.uuid4(), name="agent.status_changed", workspace_id=workspace.pk, payload={}
    )
    assert [(c.name, c.ticket_id) for c in cursor.read(workspace.pk)] == [("agent.status_changed", None)]


REDIS = os.environ.get("PIVOTDESK_TEST_REDIS_URL", "")


@pytest.mark.skipif(not REDIS, reason="PIVOTDESK_TEST_REDIS_URL not set: live updates over Redis not tested")
def test_over_redis_a_wake_reaches_every_process_listener(settings, monkeypatch) -> None:
    import redis

    settings.REDIS_URL = REDIS
    monkeypatch.setattr(live._state, "redis_client", None)
    monkeypatch.setattr(live._state, "listener_started", False)
    other = redis.Redis.from_url(REDIS).pubsub(ignore_subscribe_messages=True)
    other.subscribe(live.CHANNEL)
    try:
        live.ensure_listener()
        time.sleep(0.3)  # the listener subscribes
        live.wake([7, 3, 7])
        deadline, message = time.monotonic() + 3.0, None
        while message is None and time.monotonic() < deadline:  # the first read may be the subscription's answer
            message = other.get_message(timeout=0.5)
        assert message is not None and json.loads(message["data"]) == [3, 7]
        # Another process publishing (simulated by a second client) wakes this process's streams through the listener
        seen = live.version()
        redis.Redis.from_url(REDIS).publish(live.CHANNEL, json.dumps([1]))
        assert live.wait(seen, 3.0) > seen
    finally:
        other.close()
