"""Celery tasks of the tickets app: thin, take the event dict, call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.tickets.search import search_document_build


@shared_task(name="tickets.search_index_on_event", ignore_result=True)
def search_index_on_event(event: dict[str, Any]) -> None:
    """Rebuild the search document of the event's ticket (for a merge, of both tickets: the messages moved)."""
    payload = event.get("payload") or {}
    for key in ("ticket_id", "source_id"):
        ticket_id = payload.get(key)
        if isinstance(ticket_id, int):
            search_document_build(ticket_id)
