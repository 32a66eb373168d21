"""The waiting queue: tickets nobody could take yet, retried in order (priority, SLA due time, age) whenever
capacity may have freed up and on the beat; relaxed one ladder step per skill timeout, then overflowed; a
backlog longer than the policy's batch threshold is assigned jointly (`batch_assign`) instead of greedily."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import OperationalError, connection, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.time import now as current_time
from pivotdesk.routing.domain import Decision, batch_assign
from pivotdesk.routing.models import QUEUE_ORDER, QueuedTicket, RoutingPolicy, Trigger
from pivotdesk.routing.services.dispatch import ROUTING_ACTOR, Outcome, _escalation, route_ticket
from pivotdesk.routing.services.pool import LOAD_STATES, agent_states
from pivotdesk.routing.services.specs import DEVICE_LINK, policy_spec, ticket_spec
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
DRAIN_LIMIT = 500
BACKLOG_LIMIT = 200  # tickets routed per "route the backlog" click: a click answers in seconds, not minutes


@dataclass
class DrainResult:
    """What one pass over the queue did."""

    attempted: int = 0
    assigned: int = 0
    waiting: int = 0
    skipped: int = 0
    batched: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def _claim_ticket(ticket_id: int) -> bool:
    """Inside a transaction: lock the ticket, or report that another worker holds it (PostgreSQL SKIP LOCKED)."""
    if not connection.features.has_select_for_update_skip_locked:
        return True
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=ticket_id)
        .values_list("pk", flat=True)
        .first()
        is not None
    )


def drain_queue(
    *, actor: Actor, workspace_id: int, now: dt.datetime | None = None, due_only: bool = False
) -> DrainResult:
    """Try every waiting ticket of the workspace in queue order (`due_only`: those whose retry time has come).
    Only the system drains the queue (the routing tasks)."""
    authorize_system(actor)
    at = now or current_time()
    qs = QueuedTicket.objects.filter(workspace_id=workspace_id).select_related("policy")
    if due_only:
        qs = qs.filter(next_attempt_at__lte=at)
    entries = list(qs.order_by(*QUEUE_ORDER)[:DRAIN_LIMIT])
    result = DrainResult()
    groups: dict[tuple[int, int, bool], list[QueuedTicket]] = defaultdict(list)
    for entry in entries:
        if entry.policy is not None:
            level, overflow = _escalation(entry.policy, entry, at)
            groups[(entry.policy_id or 0, level, overflow)].append(entry)
    batch_decisions: dict[int, Decision] = {}
    for (_, level, overflow), members in groups.items():
        policy = members[0].policy
        if policy is not None and policy.batch_threshold and len(members) > policy.batch_threshold:
            batch_decisions.update(_batch(policy, members, level=level, overflow=overflow, at=at))
    for entry in entries:
        result.attempted += 1
        try:
            with transaction.atomic():
                if not _claim_ticket(entry.ticket_id):
                    result.skipped += 1
                    continue
                ticket = Ticket.objects.get(pk=entry.ticket_id)
                outcome = route_ticket(
                    actor=actor,
                    ticket=ticket,
                    trigger=Trigger.QUEUE,
                    now=at,
                    decision=batch_decisions.get(entry.ticket_id),
                )
        except Ticket.DoesNotExist:
            continue
        except OperationalError:  # a lock timeout: the next pass retries it
            log.warning("routing: could not lock ticket %s, retrying later", entry.ticket_id, exc_info=True)
            result.skipped += 1
            continue
        except Exception as exc:  # one broken ticket must not stall the queue: its row says why, visibly
            log.exception("routing: routing ticket %s from the queue failed", entry.ticket_id)
            QueuedTicket.objects.filter(pk=entry.pk).update(
                last_reason=f"Routing failed: {exc}"[:2000],
                last_reason_data={"failed": True, "error": f"{type(exc).__name__}: {exc}"[:500]},
                next_attempt_at=at + dt.timedelta(seconds=60),
            )
            result.skipped += 1
            continue
        if entry.ticket_id in batch_decisions:
            result.batched += 1
        result.outcomes.append(outcome)
        if outcome.assigned_to is not None:
            result.assigned += 1
        elif outcome.queued:
            result.waiting += 1
        else:
            result.skipped += 1
    return result


def _batch(
    policy: RoutingPolicy, members: list[QueuedTicket], *, level: int, overflow: bool, at: dt.datetime
) -> dict[int, Decision]:
    """Joint assignment of a backlog on the score matrix (each decision is still claimed under lock)."""
    tickets = Ticket.objects.select_related("requester__organization", "category", DEVICE_LINK).in_bulk(
        [m.ticket_id for m in members]
    )
    excluded = {a for m in members for a in (m.excluded_agent_ids or [])}
    states = agent_states(
        workspace_id=policy.workspace_id,
        policy=policy,
        at=at,
        team_id=policy.overflow_team_id if overflow else None,
    )
    specs = [ticket_spec(tickets[m.ticket_id], at=at, waiting_since=m.since) for m in members if m.ticket_id in tickets]
    try:
        decisions = batch_assign(specs, states, policy_spec(policy), relax_level=level)
    except Exception:  # the greedy path still routes every ticket; a batch failure must not stall the queue
        log.exception("routing: batch assignment failed for policy %s", policy.pk)
        return {}
    # Tickets with agent-specific exclusions (a decline) fall back to the one-by-one path.
    return {d.ticket_id: d for d in decisions if not excluded or d.agent_id not in excluded}


def queue_entries(*, workspace_id: int) -> list[QueuedTicket]:
    """The waiting tickets of a workspace in queue order (for the dispatch board)."""
    return list(
        QueuedTicket.objects.filter(workspace_id=workspace_id)
        .select_related("ticket__requester", "policy")
        .order_by(*QUEUE_ORDER)
    )


@dataclass
class BacklogResult:
    """What routing the unqueued backlog did: assigned, now waiting in the queue, matching no routing policy."""

    attempted: int = 0
    assigned: int = 0
    waiting: int = 0
    unmatched: int = 0
    skipped: int = 0


def backlog_route(*, actor: Actor, workspace_id: int, limit: int = BACKLOG_LIMIT) -> BacklogResult:
    """A supervisor sends the open unassigned tickets that never reached the queue (created before routing was set
    up, or while nobody was eligible) through routing now, oldest first: each is assigned or waits in the queue;
    a ticket no policy matches stays where it is (the dispatch page says how many)."""
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=workspace_id)
    queued = QueuedTicket.objects.filter(workspace_id=workspace_id).values("ticket_id")
    tickets = (
        Ticket.objects.filter(workspace_id=workspace_id, assignee__isnull=True, status__in=LOAD_STATES)
        .filter(merged_into__isnull=True)
        .exclude(pk__in=queued)
        .order_by("created_at", "pk")[:limit]
    )
    result = BacklogResult()
    for ticket in list(tickets):
        result.attempted += 1
        outcome = route_ticket(actor=ROUTING_ACTOR, ticket=ticket, trigger=Trigger.NEW)
        if outcome.assigned_to is not None:
            result.assigned += 1
        elif outcome.queued:
            result.waiting += 1
        elif outcome.skipped == "no routing policy matches":
            result.unmatched += 1
        else:
            result.skipped += 1
    return result
