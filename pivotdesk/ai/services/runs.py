"""Recording pipeline steps: one TriageRun per step and ticket (or ticket and message), with attempts and timing.

The pipeline reads a ticket's runs once (`triage_runs_load`), runs the steps in memory and records them all at once
(`triage_runs_record`: one bulk insert of the new rows, one bulk update of the rows that were there), in the
transaction that applies what the steps found. `triage_run_store` records one step alone (the fallback when the
combined write failed, and a race with another worker: it finds the row the other one made).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from pivotdesk.ai.models import StepStatus, TriageRun
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

RECORDED_FIELDS = (
    "status",
    "attempts",
    "output",
    "error",
    "model_name",
    "model_version",
    "duration_ms",
    "finished_at",
    "updated_at",
)


@dataclass
class StepRecord:
    """How one step ended, kept in memory until the pipeline writes: the stored row (None: not recorded yet)."""

    step: str
    run: TriageRun | None
    status: str = StepStatus.PENDING
    attempts: int = 0
    output: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    model_name: str = ""
    model_version: str = ""
    duration_ms: int | None = None
    finished_at: dt.datetime | None = None

    def fill(self, run: TriageRun) -> TriageRun:
        run.status = self.status
        run.attempts = self.attempts
        run.output = self.output or {}
        run.error = self.error[:4000]
        run.model_name = self.model_name[:120]
        run.model_version = str(self.model_version)[:64]
        run.duration_ms = self.duration_ms
        run.finished_at = self.finished_at or now()
        return run


@dataclass
class TicketRuns:
    """A ticket's runs for one message (or the ticket itself), by step; `any_run`: whether any step ever ran on
    the ticket (for any message)."""

    by_step: dict[str, TriageRun]
    any_run: bool


def triage_runs_load(*, ticket: Ticket, message_id: int | None) -> TicketRuns:
    """The ticket's runs, in one statement (none when the ticket says it has none: `has_runs`, annotated by
    `selectors.ticket_for_triage`)."""
    if getattr(ticket, "has_runs", True) is False:
        return TicketRuns({}, False)
    rows = list(TriageRun.objects.filter(ticket=ticket))
    return TicketRuns({r.step: r for r in rows if r.message_id == message_id}, bool(rows))


def triage_runs_record(*, ticket: Ticket, message_id: int | None, records: list[StepRecord]) -> list[TriageRun]:
    """Record how the steps ended: new rows in one insert, existing ones in one update (inside the caller's
    transaction; a concurrent worker's row makes it raise IntegrityError, and the caller records one by one)."""
    new = [
        r.fill(TriageRun(workspace_id=ticket.workspace_id, ticket=ticket, message_id=message_id, step=r.step))
        for r in records
        if r.run is None
    ]
    stamp = now()
    old = [r.fill(r.run) for r in records if r.run is not None]
    for run in old:
        run.updated_at = stamp
    if new:
        TriageRun.objects.bulk_create(new)
    if old:
        TriageRun.objects.bulk_update(old, list(RECORDED_FIELDS))
    return [*new, *old]


def triage_run_store(*, ticket: Ticket, message_id: int | None, record: StepRecord) -> TriageRun:
    """Record one step alone (its row created, or found when another worker made it meanwhile)."""
    run = record.run or triage_run_get_or_create(ticket=ticket, step=record.step, message_id=message_id)
    run.attempts = record.attempts
    return triage_run_finish(
        run=run,
        status=record.status,
        output=record.output,
        error=record.error,
        model_name=record.model_name,
        model_version=record.model_version,
        duration_ms=record.duration_ms,
    )


def triage_run_get_or_create(*, ticket: Ticket, step: str, message_id: int | None) -> TriageRun:
    """The run row of a step (created pending on first use; two workers racing get the same row)."""
    lookup = {"ticket": ticket, "step": step, "message_id": message_id}
    run = TriageRun.objects.filter(**lookup).first()
    if run is not None:
        return run
    try:
        with transaction.atomic():
            return TriageRun.objects.create(workspace_id=ticket.workspace_id, **lookup)
    except IntegrityError:
        return TriageRun.objects.get(**lookup)


def triage_run_finish(
    *,
    run: TriageRun,
    status: str,
    output: dict[str, Any] | None = None,
    error: str = "",
    model_name: str = "",
    model_version: str = "",
    duration_ms: int | None = None,
) -> TriageRun:
    """Record how a step ended: succeeded (with its output), skipped (with a reason) or failed (with the error)."""
    record = StepRecord(
        step=run.step,
        run=run,
        status=status,
        attempts=run.attempts,
        output=output or {},
        error=error,
        model_name=model_name,
        model_version=model_version,
        duration_ms=duration_ms,
    )
    record.fill(run).save(update_fields=list(RECORDED_FIELDS))
    return run


SUCCEEDED, SKIPPED, FAILED = StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED
