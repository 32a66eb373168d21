"""Celery tasks of the search app: thin, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from pivotdesk.search.services import sweep


@shared_task(name="search.sweep", ignore_result=True)
def sweep_task() -> int:
    """Rebuild the search documents of objects changed since they were indexed, every kind (beat, every 5 s)."""
    return sweep()
