"""Recording pipeline steps: one TriageRun per step and ticket (or ticket and message), with attempts and timing."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from pivotdesk.ai.models import StepStatus, TriageRun
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket


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


def triage_run_attempt(*, run: TriageRun, persist: bool = False) -> TriageRun:
    """Count one more attempt (kept in memory and saved with the outcome: one write per step, not two; a worker
    that dies mid-step leaves the row as it was, and the step runs again next time)."""
    run.attempts += 1
    if persist:
        run.status = StepStatus.RUNNING
        TriageRun.objects.filter(pk=run.pk).update(status=run.status, attempts=run.attempts, updated_at=now())
    return run


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
    run.status = status
    run.output = output or {}
    run.error = error[:4000]
    run.model_name = model_name[:120]
    run.model_version = str(model_version)[:64]
    run.duration_ms = duration_ms
    run.finished_at = now()
    run.save(
        update_fields=[
            "status",
            "attempts",
            "output",
            "error",
            "model_name",
            "model_version",
            "duration_ms",
            "finished_at",
            "updated_at",
        ]
    )
    return run


SUCCEEDED, SKIPPED, FAILED = StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED
