"""Log filters named by `LOGGING` in settings."""

from __future__ import annotations

import logging

#: A periodic job that runs at least this often is "frequent": Celery's INFO lines about each of its runs are dropped.
FREQUENT_SECONDS = 60.0


class QuietFrequentJobs(logging.Filter):
    """Drops Celery's INFO lines about each run of a frequent periodic job (beat's "Sending due task …", the worker's
    "Task … received" and "Task … succeeded"): on an idle desk they were a line every 5 s. Warnings and errors
    (a job that failed, raised or expired) are kept, and so is every line about any other task."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        from config.schedule import BEAT_SCHEDULE

        self.tasks = tuple(
            str(entry["task"])
            for entry in BEAT_SCHEDULE.values()
            if isinstance(entry["schedule"], int | float) and entry["schedule"] <= FREQUENT_SECONDS
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not record.name.startswith("celery"):
            return True
        message = record.getMessage()
        return not any(f"{task}[" in message or f"({task})" in message for task in self.tasks)
