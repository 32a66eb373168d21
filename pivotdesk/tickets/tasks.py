"""Celery tasks of the tickets app: thin, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from pivotdesk.tickets.search import search_index_sweep


@shared_task(name="tickets.search_index_sweep", ignore_result=True)
def search_index_sweep_task() -> int:
    """Rebuild the search documents of tickets changed since they were indexed (beat, every few seconds)."""
    return search_index_sweep()
