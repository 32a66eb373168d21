"""A ticket whose SLA check crashes: a visible row with the reason (SLACheckFailure, one per ticket), retried by
the scanner with back-off (5 min, 10, 20 … up to 6 h), and marked resolved once a check of it succeeds."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction

from pivotdesk.common.domain.backoff import backoff_ceiling
from pivotdesk.sla.models import SLACheckFailure
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

MAX_REASON = 2000

FIRST_RETRY = dt.timedelta(minutes=5)
MAX_RETRY = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th consecutive failure (1 → 5 min, 2 → 10 min, 3 → 20 min …, at most 6 h):
    the outboxes' back-off ceiling, without jitter (one scanner retries a ticket; nothing bunches up)."""
    ceiling = backoff_ceiling(attempts, base_s=FIRST_RETRY.total_seconds(), cap_s=MAX_RETRY.total_seconds())
    return dt.timedelta(seconds=ceiling)


def reason_of(error: BaseException) -> str:
    """ "RuntimeError: boom" (cut to MAX_REASON characters)."""
    text = str(error).strip()
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:MAX_REASON]


def record_failure(*, ticket_id: int, error: BaseException, at: dt.datetime) -> SLACheckFailure | None:
    """Record a failed check of a ticket and schedule its next attempt (sla_next_check_at) after the back-off
    for its number of consecutive failures. Never raises: a failure to record is logged."""
    try:
        with transaction.atomic():
            return _record(ticket_id, reason_of(error), at)
    except Exception:
        log.exception("could not record the SLA check failure of ticket %s", ticket_id)
        return None


def _record(ticket_id: int, reason: str, at: dt.datetime) -> SLACheckFailure | None:
    workspace_id = Ticket.objects.filter(pk=ticket_id).values_list("workspace_id", flat=True).first()
    if workspace_id is None:
        return None
    row = SLACheckFailure.objects.select_for_update().filter(ticket_id=ticket_id).first()
    if row is None:
        row = SLACheckFailure(workspace_id=workspace_id, ticket_id=ticket_id, attempts=0, first_failed_at=at)
    if row.resolved_at is not None:  # failing again after a success: a new run of failures
        row.attempts, row.first_failed_at, row.resolved_at = 0, at, None
    row.attempts += 1
    row.error = reason
    row.last_failed_at = at
    row.retry_at = at + retry_delay(row.attempts)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a concurrent first failure of the same ticket: count this one on its row
        row = SLACheckFailure.objects.select_for_update().get(ticket_id=ticket_id)
        row.attempts += 1
        row.error, row.last_failed_at = reason, at
        row.retry_at = at + retry_delay(row.attempts)
        row.save()
    Ticket.objects.filter(pk=ticket_id).update(sla_next_check_at=row.retry_at)
    return row


def failing_among(ticket_ids: list[int]) -> set[int]:
    """Which of these tickets have an unresolved failure (one query per scan batch)."""
    if not ticket_ids:
        return set()
    rows = SLACheckFailure.objects.filter(ticket_id__in=ticket_ids, resolved_at__isnull=True)
    return set(rows.values_list("ticket_id", flat=True))


def resolve(*, ticket_id: int, at: dt.datetime) -> None:
    """A check of the ticket succeeded: its failure row is resolved (kept, with the last reason, for the record)."""
    SLACheckFailure.objects.filter(ticket_id=ticket_id, resolved_at__isnull=True).update(resolved_at=at, updated_at=at)
