"""One outbox for everything PivotDesk sends out: replies, notifications, webhooks — and every later sender.

A row of any model built on `OutboxRow` walks one life cycle:

    queued ──claim()──► sending ──mark_sent()──► sent
      ▲                   │ └──mark_failed(reason)──► failed (after max attempts, or permanent) / an extra terminal
      │                   │                           state of the app (notifications: suppressed)
      └──── back-off ─────┘ (mark_failed before max attempts: queued again, `next_attempt_at` = now + back-off)
      └──── retry_now() ◄── failed (a person's "retry" button: a fresh attempt budget)

- `claim` is ONE conditional UPDATE: a queued row that is due, or a sending row whose lease ran out (its worker
  died mid-send), becomes `sending` with `lease_until` = now + lease, and `attempts = attempts + 1` computed by the
  database (`F()`), never from a value read earlier. Two workers claiming the same row: exactly one UPDATE matches.
  No transaction is held open while the message is on the wire.
- `next_attempt_at` is when the row is next due for a claim: the back-off or quiet hours of a queued row, the lease
  end of a sending row, NULL once the row is terminal. So the retry scan (`due` / `scan_due`) is one index range
  over (next_attempt_at, id) — see `outbox_indexes` — and picks up abandoned sends without a second query.
- `attempts` doubles as a fencing token: `mark_sent` / `mark_failed` apply only while the row is still `sending`
  with the attempt number the worker claimed, so a worker that outlived its lease cannot overwrite the outcome of
  the attempt that replaced it.
- One back-off (`pivotdesk.common.domain.backoff`): capped exponential with half jitter.

The functions take the model class or a queryset of it (a queryset narrows what may be claimed or scanned), and
the lease and the attempt budget as parameters, so any model using the mixin (e.g. the lead's event relay) reuses
them unchanged. Apps keep their own side effects (attempt logs, message status, endpoint auto-disable) around them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.domain.backoff import BASE_S, CAP_S, backoff_seconds
from pivotdesk.common.time import now

REASON_MAX_CHARS = 4000


class OutboxStatus(models.TextChoices):
    """The one status vocabulary of every outbox (an app may add extra terminal states, never other open ones)."""

    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


OPEN_STATUSES: tuple[str, ...] = (OutboxStatus.QUEUED, OutboxStatus.SENDING)


class OutboxRow(models.Model):
    """Abstract: the shared columns of an outbox row. Subclasses add what they send and `outbox_indexes(...)`."""

    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0, help_text=_("Attempts claimed so far (the fencing token)."))
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the row is next due: back-off end, or lease end while sending.")
    )
    lease_until = models.DateTimeField(null=True, blank=True, help_text=_("The current send's claim runs until."))
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text=_("Why the last attempt failed."))
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A queued row without a due time would never be scanned: new rows are due at once unless told otherwise.
        if self.status == OutboxStatus.QUEUED and self.next_attempt_at is None:
            self.next_attempt_at = now()
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        """Queued or being sent: not yet in a terminal state."""
        return self.status in OPEN_STATUSES


def outbox_indexes(prefix: str) -> list[models.Index]:
    """The index that makes the retry scan a range scan: (next_attempt_at, id), only over open rows (terminal rows
    have no `next_attempt_at`, so the index stays as small as the backlog). Put it in the subclass's Meta.indexes."""
    return [
        models.Index(
            fields=["next_attempt_at", "id"], condition=Q(next_attempt_at__isnull=False), name=f"{prefix}_due"[:30]
        )
    ]


def _queryset[M: OutboxRow](source: type[M] | QuerySet[M]) -> QuerySet[M]:
    return source if isinstance(source, QuerySet) else source._default_manager.all()


def claimable(at: dt.datetime) -> Q:
    """Rows a worker may claim at `at`: queued and due, or sending with an expired lease (its worker died)."""
    return Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=at) | Q(status=OutboxStatus.SENDING, lease_until__lte=at)


def claim[M: OutboxRow](
    source: type[M] | QuerySet[M], *, pk: int, lease_seconds: float, at: dt.datetime | None = None
) -> M | None:
    """Claim one row for one attempt with a lease, by one conditional UPDATE. Returns the claimed row (read after
    the claim: its `attempts` is this attempt's number) when this worker won, None when the row is terminal, not
    due, in flight under a live lease, or another worker won. `source` may be a queryset: its filters narrow what
    may be claimed and its select_related shapes the returned row."""
    at = at or now()
    lease = at + dt.timedelta(seconds=lease_seconds)
    qs = _queryset(source)
    won = (
        qs.filter(pk=pk)
        .filter(claimable(at))
        .select_related(None)
        .update(
            status=OutboxStatus.SENDING,
            attempts=F("attempts") + 1,
            lease_until=lease,
            next_attempt_at=lease,
            last_attempt_at=at,
        )
    )
    return qs.get(pk=pk) if won else None


def exhausted(row: OutboxRow, *, max_attempts: int) -> bool:
    """True when this claim is past the attempt budget: earlier claims died mid-send (their leases ran out), so the
    caller should record a final failure instead of sending again."""
    return row.attempts > max(1, max_attempts)


def _fenced(row: OutboxRow) -> QuerySet[Any]:
    return type(row)._default_manager.filter(pk=row.pk, status=OutboxStatus.SENDING, attempts=row.attempts)


def _apply(row: OutboxRow, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):
            setattr(row, name, value)


def mark_sent(row: OutboxRow, *, at: dt.datetime | None = None, fields: Mapping[str, Any] | None = None) -> bool:
    """Record that the claimed attempt delivered the row (plus the app's own `fields`, in the same UPDATE).
    Returns False — and changes nothing — when this claim is stale (the lease ran out and another attempt took
    the row over)."""
    values: dict[str, Any] = {
        "status": OutboxStatus.SENT,
        "sent_at": at or now(),
        "next_attempt_at": None,
        "lease_until": None,
        "last_error": "",
        **(fields or {}),
    }
    if not _fenced(row).update(**values):
        return False
    _apply(row, values)
    return True


def mark_failed(
    row: OutboxRow,
    *,
    reason: str,
    max_attempts: int,
    permanent: bool = False,
    final_status: str = OutboxStatus.FAILED,
    retry_after: float | None = None,
    base_s: float = BASE_S,
    cap_s: float = CAP_S,
    at: dt.datetime | None = None,
    fields: Mapping[str, Any] | None = None,
) -> str | None:
    """Record that the claimed attempt failed with `reason`. Before `max_attempts` (and unless `permanent`) the row
    is queued again after the back-off (at least the platform's `retry_after`); otherwise it ends in
    `final_status` (failed, or an app's extra terminal state such as suppressed). Returns the new status, or None
    when this claim is stale (nothing changed)."""
    at = at or now()
    give_up = permanent or row.attempts >= max(1, max_attempts)
    values: dict[str, Any] = {"last_error": (reason or "unknown error")[:REASON_MAX_CHARS], "lease_until": None}
    if give_up:
        values |= {"status": final_status, "next_attempt_at": None, "failed_at": at}
    else:
        delay = backoff_seconds(max(1, row.attempts), base_s=base_s, cap_s=cap_s, retry_after=retry_after)
        values |= {"status": OutboxStatus.QUEUED, "next_attempt_at": at + dt.timedelta(seconds=delay)}
    values |= fields or {}
    if not _fenced(row).update(**values):
        return None
    _apply(row, values)
    return str(values["status"])


def retry_now[M: OutboxRow](
    source: type[M] | QuerySet[M],
    *,
    pks: Sequence[int],
    from_statuses: Sequence[str] = (OutboxStatus.FAILED,),
    at: dt.datetime | None = None,
    fields: Mapping[str, Any] | None = None,
) -> list[int]:
    """A person's "retry now": rows of `pks` in one of `from_statuses` are queued again, due now, with a fresh
    attempt budget (plus the app's own `fields`). A row being sent under a live lease is never touched. Returns the
    ids that were re-queued (the caller queues their send after commit). Permission checks are the caller's."""
    at = at or now()
    qs = (
        _queryset(source)
        .filter(pk__in=list(pks), status__in=list(from_statuses))
        .exclude(status=OutboxStatus.SENDING, lease_until__gt=at)
    )
    ids = list(qs.values_list("pk", flat=True))
    if not ids:
        return []
    values: dict[str, Any] = {
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": at,
        "lease_until": None,
        "sent_at": None,
        "failed_at": None,
        **(fields or {}),
    }
    qs.filter(pk__in=ids).select_related(None).update(**values)
    return ids


def due[M: OutboxRow](
    source: type[M] | QuerySet[M],
    *,
    at: dt.datetime | None = None,
    limit: int = 200,
    after: tuple[dt.datetime, int] | None = None,
) -> list[tuple[int, dt.datetime]]:
    """One keyset page of the retry scan: (id, next_attempt_at) of open rows due at `at` (back-off over, or a lease
    run out), in (next_attempt_at, id) order, strictly after the `after` key. An index range scan."""
    at = at or now()
    qs = _queryset(source).filter(next_attempt_at__lte=at, status__in=OPEN_STATUSES)
    if after is not None:
        qs = qs.filter(Q(next_attempt_at__gt=after[0]) | Q(next_attempt_at=after[0], pk__gt=after[1]))
    rows = qs.order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:limit]
    return [(pk, when) for pk, when in rows if when is not None]


def scan_due[M: OutboxRow](
    source: type[M] | QuerySet[M],
    *,
    at: dt.datetime | None = None,
    batch_size: int = 200,
    max_batches: int = 10,
) -> Iterator[int]:
    """Ids of every due row, page by page (at most batch_size × max_batches per scan; the next beat goes on).
    Each app's `retry_due` task queues one send per id; queuing a row twice is harmless (one claim wins)."""
    at = at or now()
    after: tuple[dt.datetime, int] | None = None
    for _batch in range(max_batches):
        batch = due(source, at=at, limit=batch_size, after=after)
        for pk, _when in batch:
            yield pk
        if len(batch) < batch_size:
            return
        last_pk, last_when = batch[-1]
        after = (last_when, last_pk)
