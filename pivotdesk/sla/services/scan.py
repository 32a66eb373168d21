"""The due-scan: find tickets whose next SLA check has come (an indexed range query in batches), recompute their
clocks and fire what is due — warnings, breaches, escalation levels — each exactly once.

Exactly once: every firing first inserts its SLAFiring row (unique ticket, metric, cycle, kind, label) in a
savepoint; only the inserter notifies and acts, so two schedulers, a retried task or a re-run scan fire nothing
twice. On PostgreSQL the ticket row is also claimed with FOR UPDATE SKIP LOCKED, so a second scanner passes over a
ticket the first is working on instead of waiting for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.common.time import now as current_time
from pivotdesk.notifications.services import notify
from pivotdesk.sla import selectors
from pivotdesk.sla.models import FiringKind, SLAFiring
from pivotdesk.sla.services.apply import (
    METRIC_LABELS,
    SLA_ACTOR,
    DueFiring,
    SlaResult,
    apply_in_transaction,
    local_time,
)
from pivotdesk.sla.services.escalation import Recipient, default_recipients, notify_recipients, run_safely
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services.timeline import record

log = logging.getLogger(__name__)

RETRY_AFTER_ERROR = dt.timedelta(minutes=5)


@dataclass
class ScanReport:
    """What one scan did."""

    checked: int = 0
    fired: int = 0
    failed: int = 0
    firings: list[int] = field(default_factory=list)


def sla_scan_due(*, now: dt.datetime | None = None, batch_size: int = 500, max_batches: int = 20) -> ScanReport:
    """Check every ticket whose sla_next_check_at has passed, oldest first, in batches of `batch_size` (keyset
    paging over the sla_next_check_at index, so a ticket that fails is not picked again in the same scan)."""
    at = now or current_time()
    report = ScanReport()
    after: tuple[dt.datetime, int] | None = None
    for _ in range(max_batches):
        batch = selectors.due_tickets(at=at, limit=batch_size, after=after)
        for ticket_id, _check_at in batch:
            report.checked += 1
            try:
                fired = sla_check_ticket(ticket_id=ticket_id, now=at)
            except Exception:  # one broken ticket must not stop the scan; it is retried later
                log.exception("SLA check of ticket %s failed", ticket_id)
                report.failed += 1
                Ticket.objects.filter(pk=ticket_id).update(sla_next_check_at=at + RETRY_AFTER_ERROR)
                continue
            report.fired += len(fired)
            report.firings.extend(f.pk for f in fired)
        if len(batch) < batch_size:
            break
        last_id, last_at = batch[-1]
        after = (last_at, last_id)
    return report


def sla_check_ticket(*, ticket_id: int, now: dt.datetime | None = None) -> list[SLAFiring]:
    """Recompute one due ticket and fire its due warnings, breaches and escalation levels (each once)."""
    at = now or current_time()
    with transaction.atomic():
        qs = Ticket.objects.filter(pk=ticket_id, sla_next_check_at__lte=at)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ticket = qs.first()
        if ticket is None:  # another scanner holds it, or it is no longer due
            return []
        result = apply_in_transaction(ticket=ticket, now=at)
        if result.due:
            result.ticket = Ticket.objects.select_related("assignee__user", "team__lead__user", "workspace").get(
                pk=ticket_id
            )
        fired: list[SLAFiring] = []
        for item in result.due:
            firing = _claim(result, item, at)
            if firing is not None:
                _act(result, item, firing)
                fired.append(firing)
        if result.due:
            Ticket.objects.filter(pk=ticket_id).update(sla_next_check_at=result.next_at)
    return fired


def _claim(result: SlaResult, item: DueFiring, at: dt.datetime) -> SLAFiring | None:
    """Insert the firing's row; None when it exists already (someone else fired it)."""
    try:
        with transaction.atomic():
            return SLAFiring.objects.create(
                workspace_id=result.ticket.workspace_id,
                ticket=result.ticket,
                metric=item.metric,
                cycle=item.cycle,
                kind=item.kind,
                label=item.label,
                fired_at=at,
                due_at=item.due_at,
            )
    except IntegrityError:
        return None


def _notify(result: SlaResult, item: DueFiring, recipients: list[Recipient], kind: str, title: str) -> list[str]:
    ticket = result.ticket
    sent: list[str] = []
    for r in recipients:
        try:  # notify() writes inside its own savepoint: a failure there leaves this transaction usable
            notify(
                workspace=ticket.workspace,
                recipient=r.agent,
                kind=kind,
                title=title,
                body=f"#{ticket.number} {ticket.subject}",
                url=f"/tickets/{ticket.number}/",
                ticket=ticket,
                dedupe_key=f"sla:{ticket.pk}:{item.metric}:{item.cycle}:{item.kind}:{item.label}",
                urgent=kind != "sla.warning",
                data={"metric": item.metric, "cycle": item.cycle, "label": item.label},
            )
        except Exception as exc:  # a notification that cannot be written is recorded, the firing stands
            log.exception("SLA notification to agent %s failed", r.agent.pk)
            sent.append(f"could not notify {r.agent.name}: {exc}")
            continue
        sent.append(f"notified {r.agent.name} ({r.role})")
    return sent


def _act(result: SlaResult, item: DueFiring, firing: SLAFiring) -> None:
    """Notify and act for a firing this scanner inserted; record it on the timeline and in firing.data."""
    ticket = result.ticket
    metric = METRIC_LABELS.get(item.metric, item.metric)
    due = local_time(item.due_at, result.time_zone, reference=firing.fired_at)
    done: list[str] = []
    errors: list[str] = []
    data: dict[str, Any] = {}
    if item.kind == FiringKind.WARNING:
        recipients = default_recipients(ticket)
        title = f"SLA warning ({item.label}): {metric} of #{ticket.number} due {due}"
        done = _notify(result, item, recipients, "sla.warning", title)
        text = f"SLA warning ({item.label}): {metric} due {due}"
        verb = "sla_warning"
    elif item.kind == FiringKind.BREACH:
        recipients = default_recipients(ticket)
        title = f"SLA breached: {metric} of #{ticket.number} (due {due})"
        done = _notify(result, item, recipients, "sla.breach", title)
        text = f"SLA breached: {metric} (due {due})"
        verb = "sla_breached"
    else:
        level = item.level
        assert level is not None  # noqa: S101 - escalation firings always carry their level
        text = f"SLA escalated to level {level.level}: {metric} (due {due})"
        title = f"SLA escalation level {level.level}: {metric} of #{ticket.number} breached (due {due})"
        for action in level.actions or []:
            if action.get("type") == "notify":
                done.extend(_notify(result, item, notify_recipients(ticket, action), "sla.escalation", title))
                continue
            what, error = run_safely(ticket, action, SLA_ACTOR)
            if what:
                done.append(what)
            if error:
                errors.append(error)
        if any(a.get("type") != "notify" for a in level.actions or []):  # the ticket changed: later firings see it
            result.ticket = Ticket.objects.select_related("assignee__user", "team__lead__user", "workspace").get(
                pk=ticket.pk
            )
        data["level"] = level.level
        verb = "sla_escalated"
    if not done and item.kind != FiringKind.ESCALATION:
        errors.append("nobody to notify: the ticket has no assignee and its team no lead")
    failures = [d for d in done if d.startswith("could not")]
    done = [d for d in done if not d.startswith("could not")]
    errors.extend(failures)
    sentence = text + (" — " + ", ".join(done) if done else "")
    if errors:
        sentence += " (" + "; ".join(errors) + ")"
    data.update({"done": done, "errors": errors, "text": sentence})
    firing.data = data
    firing.save(update_fields=["data"])
    record(
        ticket=ticket,
        actor=SLA_ACTOR,
        verb=verb,
        field=item.metric,
        new={"label": item.label, "cycle": item.cycle, "due_at": item.due_at.isoformat() if item.due_at else None},
        data=data,
    )


def recipients_for_warning(ticket: Ticket) -> list[AgentProfile]:
    """The agents a warning or breach of this ticket would notify (for the UI's "who will hear of this")."""
    return [r.agent for r in default_recipients(ticket)]
