"""The beat schedule: every periodic job names a task the worker knows."""

from __future__ import annotations

import pytest

from config.celery import app
from config.schedule import BEAT_SCHEDULE


@pytest.mark.django_db  # the worker's module import hook (Django fixup) touches the connections
def test_every_scheduled_task_is_registered_with_the_worker():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_due_webhook_retries_are_picked_up_every_30_seconds():
    entry = BEAT_SCHEDULE["webhooks-retry-due"]
    assert (entry["task"], entry["schedule"]) == ("webhooks.retry_due", 30.0)
    assert app.conf.beat_schedule["webhooks-retry-due"]["task"] == "webhooks.retry_due"


def test_search_documents_are_kept_by_the_sweep_not_by_a_task_per_event():
    """A task per ticket.created cost a fifth of the creation rate on the SQLite broker (bench/README.md)."""
    from config.subscribers import SUBSCRIBERS

    assert BEAT_SCHEDULE["search-sweep"]["task"] == "search.sweep"
    assert not any("search" in path for paths in SUBSCRIBERS.values() for path in paths)
