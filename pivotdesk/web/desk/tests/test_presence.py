"""The presence store: who else has a ticket open, and whether they are replying."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from pivotdesk.web.desk import presence


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_alone_on_a_ticket_sees_nobody():
    assert presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=10, name="王芳", at=1000.0) == []


def test_sees_another_agent_viewing_and_replying():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", state="replying", at=1000.0)
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=12, name="Anna", state="viewing", at=1001.0)
    others = presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=10, name="王芳", at=1002.0)
    assert [(w.name, w.state) for w in others] == [("李伟", "replying"), ("Anna", "viewing")]
    assert others[0].replying and not others[1].replying


def test_entries_expire_without_heartbeats():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", at=1000.0)
    late = 1000.0 + presence.TTL_SECONDS + 1
    assert presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=10, name="王芳", at=late) == []


def test_a_new_heartbeat_replaces_the_state():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", state="replying", at=1000.0)
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", state="viewing", at=1005.0)
    assert [w.state for w in presence.watchers(workspace_id=1, ticket_id=7, at=1006.0)] == ["viewing"]


def test_unknown_state_counts_as_viewing():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="X", state="dancing", at=1000.0)
    assert presence.watchers(workspace_id=1, ticket_id=7, at=1000.0)[0].state == "viewing"


def test_tickets_and_workspaces_are_separate():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", at=1000.0)
    assert presence.watchers(workspace_id=1, ticket_id=8, at=1000.0) == []
    assert presence.watchers(workspace_id=2, ticket_id=7, at=1000.0) == []


def test_leave_removes_at_once():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", at=1000.0)
    presence.leave(workspace_id=1, ticket_id=7, agent_id=11)
    assert presence.watchers(workspace_id=1, ticket_id=7, at=1000.0) == []
    presence.leave(workspace_id=1, ticket_id=7, agent_id=99)  # leaving twice or unknown is harmless


def test_watchers_excludes_the_caller():
    presence.heartbeat(workspace_id=1, ticket_id=7, agent_id=11, name="李伟", at=1000.0)
    assert presence.watchers(workspace_id=1, ticket_id=7, exclude=11, at=1000.0) == []
