"""The live-update stream (`/live/stream/`): server-sent events naming the tickets that changed — only tickets the
agent may see, only of the agent's workspace, never their content — over WSGI (a plain iterator that ends and lets
the browser reconnect with Last-Event-ID) and over ASGI (an async iterator)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import TicketAccess
from pivotdesk.common import live
from pivotdesk.tickets.services import ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

URL = "/live/stream/"


def _events(body: str) -> list[dict[str, Any]]:
    frames = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if fields.get("event") == "ticket":
            frames.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return frames


def _read_all(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture(autouse=True)
def _short_streams(settings: Any) -> None:
    settings.PIVOTDESK_LIVE_WSGI_SECONDS = 0.6
    settings.PIVOTDESK_LIVE_POLL_SECONDS = 0.1


def test_the_stream_is_an_event_stream_and_names_the_changed_tickets(client_as, agent, workspace) -> None:
    start = live.latest_id()
    ticket = make_ticket(workspace=workspace, subject="Secret subject must not travel")
    response = client_as(agent).get(URL, {"after": start})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"].startswith("no-cache")
    body = _read_all(response)
    assert body.startswith("retry: 1000")
    frames = _events(body)
    assert [f["number"] for f in frames] == [ticket.number]  # one frame per ticket, naming what happened
    assert "ticket.created" in frames[0]["events"]
    assert "Secret subject" not in body  # the page fetches content through the views and their checks


def test_a_reconnect_resumes_after_the_last_event_id(client_as, agent, workspace) -> None:
    start = live.latest_id()
    first = make_ticket(workspace=workspace)
    client = client_as(agent)
    seen = _events(_read_all(client.get(URL, {"after": start})))
    second = make_ticket(workspace=workspace)
    again = _events(_read_all(client.get(URL, headers={"last-event-id": str(max(f["id"] for f in seen))})))
    assert {f["number"] for f in seen} == {first.number}
    assert {f["number"] for f in again} == {second.number}


def test_only_tickets_the_agent_may_see_and_only_of_its_workspace(client_as, agent, workspace, other_workspace) -> None:
    agent.ticket_access = TicketAccess.ASSIGNED
    agent.save(update_fields=["ticket_access"])
    start = live.latest_id()
    mine = make_ticket(workspace=workspace, assignee=agent)
    make_ticket(workspace=workspace)  # nobody's: not visible to an agent who sees only their own
    make_ticket(workspace=other_workspace)
    frames = _events(_read_all(client_as(agent).get(URL, {"after": start})))
    assert {f["number"] for f in frames} == {mine.number}


def test_a_change_after_the_connection_opened_arrives(client_as, agent, workspace) -> None:
    ticket = make_ticket(workspace=workspace)
    response = client_as(agent).get(URL)  # starts after the newest event: the creation is not told again
    chunks = iter(response.streaming_content)
    assert next(chunks).decode().startswith("retry:")
    ticket_update(ticket=ticket, actor=Actor.system(), changes={"priority": "urgent"})
    body = b"".join(chunks).decode()
    assert [(f["number"], f["events"]) for f in _events(body)] == [(ticket.number, ["ticket.updated"])]


def test_a_read_the_database_refuses_is_retried_not_fatal(client_as, agent, workspace, monkeypatch) -> None:
    """SQLite answers "database table is locked" to a reader while a writer holds the table: the stream keeps its
    cursor, reads again a moment later and still delivers (before, the stream ended and the browser reconnected)."""
    from django.db import OperationalError

    start = live.latest_id()
    ticket = make_ticket(workspace=workspace)
    real_read = live.Cursor.read
    refusals: list[int] = []

    def refuse_twice(self: live.Cursor, workspace_id: int) -> list[live.Change]:
        if len(refusals) < 2:
            refusals.append(self.after)
            raise OperationalError("database table is locked: common_event")
        return real_read(self, workspace_id)

    monkeypatch.setattr(live.Cursor, "read", refuse_twice)
    frames = _events(_read_all(client_as(agent).get(URL, {"after": start})))
    assert refusals == [start, start]  # the cursor did not move on a refused read
    assert [f["number"] for f in frames] == [ticket.number]


def test_signed_out_there_is_no_stream(client) -> None:
    response = client.get(URL)
    assert response.status_code in (302, 401)
    assert client.post(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_over_asgi_the_stream_is_asynchronous_and_delivers(settings: Any, agent, workspace) -> None:
    settings.PIVOTDESK_LIVE_ASGI_SECONDS = 1.0
    client = AsyncClient()

    async def run() -> str:
        await client.aforce_login(agent.user)
        start = await sync_to_async(live.latest_id)()
        ticket = await sync_to_async(make_ticket)(workspace=workspace, subject="Printer jam")
        response: Any = await client.get(URL, {"after": start})
        assert response.status_code == 200 and response.is_async
        body = "".join([chunk.decode() async for chunk in response.streaming_content])
        return body + f"\n#{ticket.number}"

    body = asyncio.run(run())
    number = int(body.rsplit("#", 1)[1])
    assert [f["number"] for f in _events(body)] == [number]
