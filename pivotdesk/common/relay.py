"""The event relay: claims committed `EventRecord` rows in batches and hands each to the installed dispatcher.

At least once: a row is claimed with a lease (a relay that dies mid-batch leaves rows whose lease runs out, and
another relay takes them again), marked done only when every subscriber succeeded, and otherwise retried with
back-off for the subscribers that failed, up to `PIVOTDESK_EVENTS_MAX_ATTEMPTS`, then left `failed` with the
reason. Subscribers are idempotent (they key on the event id or on the state they find).

Run by `manage.py events_relay` (a process of `make run`, polling every 0.1 s when idle), by the beat job
`events.relay_due` as a backstop, and in-process right after commit when `PIVOTDESK_EVENTS_INLINE` is on (tests).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from pivotdesk.common import events
from pivotdesk.common.db_retry import retry_when_locked
from pivotdesk.common.domain.backoff import backoff_seconds
from pivotdesk.common.models import EventRecord, EventState
from pivotdesk.common.time import now

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
#: Rows claimed at a time by one relay thread. Small, so that a slow event (OCR, a slow connector) holds back few
#: others and the work spreads over every relay thread: the lag of an event is at most its batch's work.
BATCH = 8


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def retry_delay(attempts: int) -> float:
    """Seconds before an event's failed subscribers run again: the outboxes' one back-off (`common.domain.backoff`),
    starting at 2 s (a subscriber's failure is usually a passing lock or a restart) and capped at 15 min."""
    return backoff_seconds(attempts, base_s=2.0, cap_s=900.0)


def _claimable(*, ids: Iterable[int] | None, at: dt.datetime) -> QuerySet[EventRecord]:
    rows = EventRecord.objects.filter(state=EventState.PENDING).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=at)
    )
    if ids is not None:
        return rows.filter(pk__in=list(ids))
    return rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))


def _claim(*, ids: Iterable[int] | None, limit: int) -> list[EventRecord]:
    """Take up to `limit` due pending rows (or those of `ids`) under a lease; another relay skips them.

    An idle poll is a read over the partial index, outside any transaction: on SQLite a write transaction (even an
    empty one) would take the database's write lock ten times a second per relay thread.
    """
    at = now()
    if ids is None and not _claimable(ids=None, at=at).exists():
        return []

    def claim() -> list[EventRecord]:
        with transaction.atomic():
            rows = _claimable(ids=ids, at=at)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            claimed = list(rows.order_by("id")[:limit])
            if claimed:
                EventRecord.objects.filter(pk__in=[row.pk for row in claimed]).update(
                    lease_until=at + LEASE, attempts=F("attempts") + 1
                )
        return claimed

    return retry_when_locked(claim)


def _deliver(rows: list[EventRecord]) -> int:
    """Dispatch claimed rows (after the batch preparer saw them all); one UPDATE marks the fully delivered ones done.
    Returns how many were done."""
    dispatcher = events.get_dispatcher()
    if dispatcher is None:  # nothing installed (a bare script): leave the rows for a relay that has one
        EventRecord.objects.filter(pk__in=[row.pk for row in rows]).update(lease_until=None)
        return 0
    done_ids: list[int] = []
    max_attempts = int(_setting("PIVOTDESK_EVENTS_MAX_ATTEMPTS", 8))
    batch = [row.as_domain_event() for row in rows]
    events.prepare_batch(batch)  # e.g. embed the batch's new tickets in one go; never fails the delivery
    for row, event in zip(rows, batch, strict=True):
        result = dispatcher(event, frozenset(row.done_subscribers))
        if not result.failed:
            done_ids.append(row.pk)
            continue
        attempts = row.attempts + 1  # the claim added one in the database
        reason = "; ".join(f"{path}: {error}" for path, error in sorted(result.failed.items()))[:2000]
        # A row whose outcome cannot be written (the database stays locked) keeps its lease: it runs again after
        # the lease, its done subscribers too (they are idempotent). Never lost.
        update = EventRecord.objects.filter(pk=row.pk).update
        retry_when_locked(
            functools.partial(
                update,
                state=EventState.FAILED if attempts >= max_attempts else EventState.PENDING,
                done_subscribers=sorted({*row.done_subscribers, *result.done}),
                last_error=reason,
                lease_until=None,
                next_attempt_at=now() + dt.timedelta(seconds=retry_delay(attempts)),
                processed_at=now() if attempts >= max_attempts else None,
            )
        )
    if done_ids:
        retry_when_locked(
            lambda: EventRecord.objects.filter(pk__in=done_ids).update(
                state=EventState.DONE, lease_until=None, processed_at=now(), last_error=""
            )
        )
    return len(done_ids)


def relay_ids(ids: Iterable[int]) -> int:
    """Deliver these rows now if they are still pending and unclaimed (the in-process path after commit)."""
    rows = _claim(ids=ids, limit=1000)
    return _deliver(rows) if rows else 0


def relay_batch(*, limit: int = BATCH) -> int:
    """Deliver one batch of due rows. Returns how many rows were claimed (0: nothing due)."""
    rows = _claim(ids=None, limit=limit)
    if rows:
        _deliver(rows)
    return len(rows)


def relay_for(*, seconds: float, limit: int = BATCH) -> int:
    """Deliver due rows until none are left or `seconds` have passed (the beat backstop)."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        claimed = relay_batch(limit=limit)
        total += claimed
        if not claimed:
            break
    return total


def relay_forever(*, stop: threading.Event, poll_seconds: float = 0.1, limit: int = BATCH) -> None:
    """The relay loop: deliver batches while there are any, poll every `poll_seconds` when idle."""
    try:
        _loop(stop=stop, poll_seconds=poll_seconds, limit=limit)
    finally:
        connection.close()


def _loop(*, stop: threading.Event, poll_seconds: float, limit: int) -> None:
    while not stop.is_set():
        try:
            claimed = relay_batch(limit=limit)
        except Exception:  # the database went away: log, reconnect, wait, try again
            log.exception("event relay batch failed")
            connection.close()
            claimed = 0
            stop.wait(2.0)
        if not claimed:
            stop.wait(poll_seconds)


def retry_failed(*, workspace_id: int | None = None) -> int:
    """Put failed events back to pending for their failed subscribers (after a fix). Returns how many."""
    rows = EventRecord.objects.filter(state=EventState.FAILED)
    if workspace_id is not None:
        rows = rows.filter(workspace_id=workspace_id)
    return rows.update(state=EventState.PENDING, attempts=0, next_attempt_at=None, processed_at=None)


def prune(*, older_than: dt.timedelta, batch: int = 5000) -> int:
    """Delete done rows processed before `older_than` ago, in batches. Returns how many were deleted."""
    cutoff = now() - older_than
    total = 0
    while True:
        ids = list(
            EventRecord.objects.filter(state=EventState.DONE, processed_at__lt=cutoff).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return total
        total += EventRecord.objects.filter(pk__in=ids).delete()[0]
