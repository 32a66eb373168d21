"""The live-update stream: `text/event-stream` of the agent's workspace, one `ticket` event per change of a ticket
the agent may see (its number and what happened, never its content: the page fetches that through the usual views
and their access checks).

One view, two ways to stream. Under ASGI (`config/asgi.py`, what `make run` serves) the response is an async
iterator: a connection costs a coroutine, not a thread, and the table reads run in the thread pool. Under WSGI (the
test server, `gunicorn config.wsgi`) it is a plain iterator that holds its thread, so it ends after
`PIVOTDESK_LIVE_WSGI_SECONDS` and the browser reconnects (EventSource does, with `Last-Event-ID`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, close_old_connections
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common import live
from pivotdesk.tickets.selectors import visible_tickets
from pivotdesk.web.base import Desk, agent_view

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
RETRY_SECONDS = 0.1  # after a read the database refused for now
TICKET_EVENTS = ("ticket.", "message.created")


def _start(request: HttpRequest) -> int:
    """Resume after the browser's `Last-Event-ID` (a reconnect), else after the newest event now."""
    raw = request.headers.get("Last-Event-ID", "") or request.GET.get("after", "")
    if raw.isascii() and raw.isdigit() and int(raw) <= 2**62:
        return int(raw)
    return live.latest_id()


def _frames(workspace: Workspace, agent: AgentProfile, cursor: live.Cursor) -> list[str]:
    """Read what changed since the cursor and render the frames the agent may see (one query for the events, one for
    the tickets' visibility when there are any)."""
    changes = [c for c in cursor.read(workspace.pk) if c.ticket_id and c.name.startswith(TICKET_EVENTS)]
    if not changes:
        return []
    numbers = dict(
        visible_tickets(workspace=workspace, agent=agent)
        .filter(pk__in={c.ticket_id for c in changes})
        .values_list("pk", "number")
    )
    # One frame per ticket and read (a reply is several events: the message, the status, the assignment), in the
    # order of each ticket's last change, so the last frame carries the id to resume after.
    last: dict[int, tuple[int, list[str]]] = {}
    for change in changes:
        number = numbers.get(change.ticket_id or 0)
        if number is None:
            continue
        _pk, names = last.pop(number, (0, []))
        last[number] = (change.id, [*names, change.name] if change.name not in names else names)
    frames = []
    for number, (pk, names) in sorted(last.items(), key=lambda item: item[1][0]):
        data = json.dumps({"number": number, "events": names}, separators=(",", ":"))
        frames.append(f"id: {pk}\nevent: ticket\ndata: {data}\n\n")
    return frames


def _read(workspace: Workspace, agent: AgentProfile, cursor: live.Cursor) -> list[str] | None:
    """The frames to send, or None when the database refused the read for now (SQLite answers "locked" while a
    writer holds the table; a connection dropped): the cursor has not moved, so the stream reads again shortly
    instead of ending, and the browser never has to reconnect for it."""
    try:
        return _frames(workspace, agent, cursor)
    except DatabaseError as exc:
        log.info("live: read refused, retrying: %s", exc)
        return None


def _read_in_thread(workspace: Workspace, agent: AgentProfile, cursor: live.Cursor) -> list[str] | None:
    try:
        return _read(workspace, agent, cursor)
    finally:
        close_old_connections()  # a pool thread: give its connection back as a request would


def _sync_stream(workspace: Workspace, agent: AgentProfile, cursor: live.Cursor) -> Iterator[str]:
    yield "retry: 1000\n\n"
    lifetime = float(getattr(settings, "PIVOTDESK_LIVE_WSGI_SECONDS", 55.0))
    started = last_sent = time.monotonic()
    seen = live.version()
    timeout = live.read_interval()
    while time.monotonic() - started < lifetime:
        seen = live.wait(seen, timeout)
        now = time.monotonic()
        frames = _read(workspace, agent, cursor)
        timeout = live.read_interval() if frames is not None else RETRY_SECONDS
        for frame in frames or ():
            last_sent = now
            yield frame
        if now - last_sent >= KEEPALIVE_SECONDS:
            last_sent = now
            yield ": keepalive\n\n"


async def _async_stream(workspace: Workspace, agent: AgentProfile, cursor: live.Cursor) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    live.ensure_listener()
    lifetime = float(getattr(settings, "PIVOTDESK_LIVE_ASGI_SECONDS", 600.0))
    read = sync_to_async(_read_in_thread, thread_sensitive=False)
    started = last_read = last_sent = time.monotonic()
    seen = -1  # read at once: a change may have landed between the page and this connection
    interval = live.read_interval()
    while time.monotonic() - started < lifetime:
        now = time.monotonic()
        if live.version() != seen or now - last_read >= interval:
            seen = live.version()
            last_read = now
            frames = await read(workspace, agent, cursor)
            interval = live.read_interval() if frames is not None else RETRY_SECONDS
            for frame in frames or ():
                last_sent = now
                yield frame
        if now - last_sent >= KEEPALIVE_SECONDS:
            last_sent = now
            yield ": keepalive\n\n"
        await asyncio.sleep(0.05)


@require_GET
@agent_view
def stream(request: HttpRequest, desk: Desk) -> StreamingHttpResponse:
    cursor = live.Cursor(_start(request))
    if isinstance(request, ASGIRequest):
        response = StreamingHttpResponse(_async_stream(desk.workspace, desk.agent, cursor))
    else:
        response = StreamingHttpResponse(_sync_stream(desk.workspace, desk.agent, cursor))
    response["Content-Type"] = "text/event-stream; charset=utf-8"
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
