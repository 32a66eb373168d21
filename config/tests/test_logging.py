"""Logs on an idle desk (issue 12): Celery's INFO lines about each run of a frequent periodic job are dropped,
failures and every other task's lines are kept; timestamps carry their UTC offset."""

from __future__ import annotations

import logging

from django.conf import settings

from config.log_filters import QuietFrequentJobs


def _record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_frequent_periodic_jobs_are_quiet_but_their_failures_are_not():
    quiet = QuietFrequentJobs()
    assert "search.sweep" in quiet.tasks and "sla.scan_due" in quiet.tasks
    assert "ai.retrain_models" not in quiet.tasks  # nightly: its lines stay
    dropped = [
        _record("celery.beat", logging.INFO, "Scheduler: Sending due task search-sweep (search.sweep)"),
        _record("celery.worker.strategy", logging.INFO, "Task search.sweep[1f2e] received"),
        _record("celery.app.trace", logging.INFO, "Task sla.scan_due[1f2e] succeeded in 0.01s: 0"),
    ]
    kept = [
        _record("celery.app.trace", logging.ERROR, "Task search.sweep[1f2e] raised unexpected: OperationalError"),
        _record("celery.worker.request", logging.WARNING, "Task sla.scan_due[1f2e] expired"),
        _record("celery.beat", logging.INFO, "Scheduler: Sending due task ai-retrain-models (ai.retrain_models)"),
        _record("celery.app.trace", logging.INFO, "Task channels.outbox_send[1f2e] succeeded in 0.2s: None"),
        _record("pivotdesk.search", logging.INFO, "search.sweep[ indexed 3 documents"),
    ]
    assert [quiet.filter(r) for r in dropped] == [False] * len(dropped)
    assert all(quiet.filter(r) for r in kept)


def test_log_lines_carry_their_utc_offset_and_celery_logs_through_the_same_configuration():
    plain = settings.LOGGING["formatters"]["plain"]
    assert plain["datefmt"].endswith("%z")
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False
    assert "quiet_frequent_jobs" in settings.LOGGING["handlers"]["console"]["filters"]
