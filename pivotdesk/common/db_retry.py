"""Running a unit of work again when the database was locked (SQLite's one writer; issue 11, finding 4).

On SQLite a writer waits for the write lock up to the busy timeout and then fails with `OperationalError: database
is locked`. That error says nothing about the work itself: the same work a moment later succeeds. `retry_when_locked`
runs a unit of work (a whole transaction, opened inside it) again after a short, growing, jittered pause
(`common.domain.backoff`), a few times; then the error goes to the caller, which records it as a failure with a
reason to be retried later (inbound payloads, event rows) — never a lost payload or a 500 for the sender.

Only the outermost caller may retry: inside an open transaction the error is raised at once, because the
transaction is already broken and only the block that opened it can run it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import OperationalError, connection

from pivotdesk.common.domain.backoff import backoff_seconds

log = logging.getLogger(__name__)

#: SQLite's words for a lock held by another connection (BUSY), by a table of a shared cache (LOCKED), or by a
#: schema change.
_LOCKED = ("database is locked", "database table is locked", "database schema is locked")


def is_database_locked(exc: BaseException) -> bool:
    """Did this error come from a lock another connection holds (worth trying again), not from the work?"""
    return isinstance(exc, OperationalError) and any(words in str(exc).lower() for words in _LOCKED)


def retry_when_locked[T](
    work: Callable[[], T],
    *,
    attempts: int = 4,
    base_s: float = 0.05,
    cap_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work()`; while it fails because the database is locked, wait (50 ms, 100 ms, … at most `cap_s`, half
    jitter) and run it again, `attempts` times in all. Any other error, and the last lock error, is raised."""
    attempt = 1
    while True:
        try:
            return work()
        except OperationalError as exc:
            if not is_database_locked(exc) or attempt >= attempts or connection.in_atomic_block:
                raise
            delay = backoff_seconds(attempt, base_s=base_s, cap_s=cap_s)
            log.warning("database is locked; trying again in %.2f s (attempt %d of %d)", delay, attempt, attempts)
            sleep(delay)
            attempt += 1
