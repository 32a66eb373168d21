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

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.time import now as current_time
from pivotdesk.notifications.services import notify
from pivotdesk.sla import selectors
from pivotdesk.sla.models import FiringKind, SLAFiring
from pivotdesk.sla.services import failures
from pivotdesk.sla.services.apply import DueFiring, SlaResult, apply_in_transaction
from pivotdesk.sla.services.escalation import (
    Recipient,
    Step,
    default_recipients,
    notify_recipients,
    run_safely,
    step_text,
)
from pivotdesk.sla.services.matching import SlaCache
from pivotdesk.sla.services.records import METRIC_LABELS, SLA_ACTOR, Timeline, local_time
from pivotdesk.tickets.models import Ticket

NOBODY_TO_NOTIFY = "nobody to notify: the ticket has no assignee and its team no lead"

log = logging.getLogger(__name__)


@dataclass
class ScanReport:
    """What one scan did."""

    checked: int = 0
    fired: int = 0
    failed: int = 0
    firings: list[int] = field(default_factory=list)


def sla_scan_due(
    *, actor: Actor, now: dt.datetime | None = None, batch_size: int = 500, max_batches: int = 20
) -> ScanReport:
    """Check every ticket whose sla_next_check_at has passed, oldest first, in batches of `batch_size` (keyset
    paging over the sla_next_check_at index, so a ticket that fails is not picked again in the same scan). The
    configuration (policies, targets, levels, calendars) is read once per batch. Only the system scans."""
    authorize_system(actor)
    at = now or current_time()
    report = ScanReport()
    after: tuple[dt.datetime, int] | None = None
    for _ in range(max_batches):
        batch = selectors.due_tickets(at=at, limit=batch_size, after=after)
        cache = SlaCache()
        failing = failures.failing_among([ticket_id for ticket_id, _ in batch])
        for ticket_id, _check_at in batch:
            report.checked += 1
            try:
                fired = sla_check_ticket(actor=actor, ticket_id=ticket_id, now=at, cache=cache)
            except Exception as exc:  # one broken ticket must not stop the scan; it is retried with back-off
                log.exception("SLA check of ticket %s failed", ticket_id)
                report.failed += 1
                failures.record_failure(ticket_id=ticket_id, error=exc, at=at)
                cache = SlaCache()  # the failure may have come from the configuration: read it again
                continue
            if ticket_id in failing:
                failures.resolve(ticket_id=ticket_id, at=at)
            report.fired += len(fired)
            report.firings.extend(f.pk for f in fired)
        if len(batch) < batch_size:
            break
        last_id, last_at = batch[-1]
        after = (last_at, last_id)
    return report


CLAIM_RELATED = ("requester__organization", "organization")  # the rest comes from the batch's SlaCache


def sla_check_ticket(
    *, actor: Actor, ticket_id: int, now: dt.datetime | None = None, cache: SlaCache | None = None
) -> list[SLAFiring]:
    """Recompute one due ticket and fire its due warnings, breaches and escalation levels (each once). One query
    claims and loads the ticket with everything the firing needs; the clocks, outcomes, firing rows and timeline
    entries are written with one statement each. Only the system checks."""
    authorize_system(actor)
    at = now or current_time()
    cache = cache or SlaCache()
    with transaction.atomic():
        qs = Ticket.objects.filter(pk=ticket_id, sla_next_check_at__lte=at).select_related(*CLAIM_RELATED)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ticket = qs.first()
        if ticket is None:  # another scanner holds it, or it is no longer due
            return []
        cache.attach(ticket)
        timeline = Timeline()
        result = apply_in_transaction(
            ticket=ticket,
            now=at,
            config=cache.config(ticket.workspace_id),
            timeline=timeline,
            locked=True,
            firing=True,
        )
        claimed = _claim_all(result, at)
        for item, firing in claimed:
            _act(result, item, firing, timeline, cache)
        timeline.flush()
        if claimed:
            SLAFiring.objects.bulk_update([firing for _, firing in claimed], ["data", "updated_at"])
    return [firing for _, firing in claimed]


def _claim_all(result: SlaResult, at: dt.datetime) -> list[tuple[DueFiring, SLAFiring]]:
    """Insert the rows of every due firing at once. The ticket is locked and its fired keys were read under the
    lock, so nobody else can insert them; should one exist all the same, each is claimed on its own (the old way:
    only the inserter acts)."""
    if not result.due:
        return []
    rows = [_firing_row(result, item, at) for item in result.due]
    try:
        with transaction.atomic():
            SLAFiring.objects.bulk_create(rows)
    except IntegrityError:
        pairs = [(item, _claim(result, item, at)) for item in result.due]
        return [(item, firing) for item, firing in pairs if firing is not None]
    return list(zip(result.due, rows, strict=True))


def _firing_row(result: SlaResult, item: DueFiring, at: dt.datetime) -> SLAFiring:
    return SLAFiring(
        workspace_id=result.ticket.workspace_id,
        ticket=result.ticket,
        metric=item.metric,
        cycle=item.cycle,
        kind=item.kind,
        label=item.label,
        fired_at=at,
        due_at=item.due_at,
    )


def _claim(result: SlaResult, item: DueFiring, at: dt.datetime) -> SLAFiring | None:
    """Insert one firing's row; None when it exists already (someone else fired it)."""
    try:
        with transaction.atomic():
            row = _firing_row(result, item, at)
            row.save(force_insert=True)
            return row
    except IntegrityError:
        return None


def _notify(
    result: SlaResult, item: DueFiring, recipients: list[Recipient], kind: str, title: str
) -> tuple[list[Step], list[str]]:
    """Notify each recipient: (steps done, errors)."""
    ticket = result.ticket
    sent: list[Step] = []
    errors: list[str] = []
    for r in recipients:
        try:  # notify() writes inside its own savepoint: a failure there leaves this transaction usable
            notify(
                workspace=ticket.workspace,
                actor=Actor.system("sla"),
                recipient=r.agent,
                kind=kind,
                title=title,
                body=f"#{ticket.number} {ticket.subject}",
                url=f"/tickets/{ticket.number}/",
                ticket=ticket,
                dedupe_key=f"sla:{ticket.pk}:{item.metric}:{item.cycle}:{item.kind}:{item.label}",
                urgent=kind != "sla.warning",
                # The facts the title is rendered from in the reader's language (notifications.render).
                data={
                    "metric": item.metric,
                    "cycle": item.cycle,
                    "label": item.label,
                    "due_at": item.due_at.isoformat() if item.due_at else None,
                    "time_zone": result.time_zone,
                    "level": item.level.level if item.level is not None else None,
                },
            )
        except Exception as exc:  # a notification that cannot be written is recorded, the firing stands
            log.exception("SLA notification to agent %s failed", r.agent.pk)
            errors.append(f"could not notify {r.agent.name}: {exc}")
            continue
        sent.append({"do": "notified", "agent": r.agent.name, "role": r.role})
    return sent, errors


def _act(result: SlaResult, item: DueFiring, firing: SLAFiring, timeline: Timeline, cache: SlaCache) -> None:
    """Notify and act for a firing this scanner inserted; record it on the timeline and in firing.data."""
    ticket = result.ticket
    metric = METRIC_LABELS.get(item.metric, item.metric)
    due = local_time(item.due_at, result.time_zone, reference=firing.fired_at)
    steps: list[Step] = []
    errors: list[str] = []
    data: dict[str, Any] = {}
    if item.kind == FiringKind.WARNING:
        recipients = default_recipients(ticket)
        title = f"SLA warning ({item.label}): {metric} of #{ticket.number} due {due}"
        steps, errors = _notify(result, item, recipients, "sla.warning", title)
        text = f"SLA warning ({item.label}): {metric} due {due}"
        verb = "sla_warning"
    elif item.kind == FiringKind.BREACH:
        recipients = default_recipients(ticket)
        title = f"SLA breached: {metric} of #{ticket.number} (due {due})"
        steps, errors = _notify(result, item, recipients, "sla.breach", title)
        text = f"SLA breached: {metric} (due {due})"
        verb = "sla_breached"
    else:
        level = item.level
        assert level is not None  # noqa: S101 - escalation firings always carry their level
        text = f"SLA escalated to level {level.level}: {metric} (due {due})"
        title = f"SLA escalation level {level.level}: {metric} of #{ticket.number} breached (due {due})"
        for action in level.actions or []:
            if action.get("type") == "notify":
                sent, failed = _notify(result, item, notify_recipients(ticket, action), "sla.escalation", title)
                steps.extend(sent)
                errors.extend(failed)
                continue
            timeline.flush()  # the action writes its own timeline entries: keep the order
            step, error = run_safely(ticket, action, SLA_ACTOR)
            if step:
                steps.append(step)
            if error:
                errors.append(error)
        if any(a.get("type") != "notify" for a in level.actions or []):  # the ticket changed: later firings see it
            result.ticket = cache.attach(Ticket.objects.select_related(*CLAIM_RELATED).get(pk=ticket.pk))
        data["level"] = level.level
        verb = "sla_escalated"
    _publish(ticket, item)
    if not steps and not errors and item.kind != FiringKind.ESCALATION:
        errors.append(NOBODY_TO_NOTIFY)
    done = [step_text(s) for s in steps]
    sentence = text + (" — " + ", ".join(done) if done else "")
    if errors:
        sentence += " (" + "; ".join(errors) + ")"
    data.update({"done": done, "steps": steps, "errors": errors, "text": sentence})
    firing.data = data
    firing.updated_at = current_time()  # saved with the others by the caller (bulk_update skips auto_now)
    timeline.add(
        ticket=ticket,
        verb=verb,
        field=item.metric,
        new={"label": item.label, "cycle": item.cycle, "due_at": item.due_at.isoformat() if item.due_at else None},
        data=data,
    )


def _publish(ticket: Ticket, item: DueFiring) -> None:
    """Warnings and breaches are typed events too (automation rules react to them)."""
    if item.kind not in (FiringKind.WARNING, FiringKind.BREACH):
        return
    from pivotdesk.common.events import publish
    from pivotdesk.sla.events import SlaBreached, SlaWarning

    kind = SlaWarning if item.kind == FiringKind.WARNING else SlaBreached
    due_at = item.due_at.isoformat() if item.due_at else None
    publish(kind(workspace_id=ticket.workspace_id, ticket_id=ticket.pk, metric=item.metric, due_at=due_at))


def recipients_for_warning(ticket: Ticket) -> list[AgentProfile]:
    """The agents a warning or breach of this ticket would notify (for the UI's "who will hear of this")."""
    return [r.agent for r in default_recipients(ticket)]
