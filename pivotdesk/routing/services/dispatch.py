"""Routing a ticket: decide, claim the winner under row locks, assign, explain on the timeline — or queue it.

Race safety. The ticket row is locked first (`select_for_update`), and a ticket is only assigned while it is
still in the state the trigger expects (unassigned for new/queued tickets, still with the leaving agent for
re-routing). Then the winner's agent row is locked and the winner's load is counted again inside that lock: a
second worker routing another ticket to the same agent waits for the first to commit and then sees its
assignment, so capacity is never exceeded. A winner that is full (or went offline) meanwhile is skipped for the
next eligible candidate. Locks are always taken ticket first, then one agent, so two workers cannot deadlock.
On SQLite writers are serialised anyway (IMMEDIATE transactions).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, AgentStatus
from pivotdesk.accounts.permissions import authorize_system, is_assignable
from pivotdesk.common.choices import channel_type
from pivotdesk.common.time import now as current_time
from pivotdesk.routing.domain import Decision, decide
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, RoutingPolicy, Trigger
from pivotdesk.routing.services.policies import policy_for
from pivotdesk.routing.services.pool import (
    LOAD_STATES,
    agent_load,
    agent_names,
    agent_table,
    note_assignment,
    note_load,
)
from pivotdesk.routing.services.specs import DEVICE_LINK, policy_spec, ticket_spec
from pivotdesk.tickets.models import PRIORITY_RANK, Ticket
from pivotdesk.tickets.services import ticket_assign
from pivotdesk.tickets.services.timeline import record

log = logging.getLogger(__name__)

ROUTING_ACTOR = Actor.system("Routing")
RETRY_SECONDS = 30  # a waiting ticket is retried at least this often by the beat (and at once on freed capacity)


@dataclass
class Outcome:
    """What one routing attempt did."""

    decision: RoutingDecision | None = None
    assigned_to: AgentProfile | None = None
    queued: bool = False
    skipped: str = ""  # why nothing was attempted (already assigned, closed, no matching policy, …)
    notes: list[str] = field(default_factory=list)


def _locked_ticket(ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester__organization", "category", "workspace", DEVICE_LINK)
        .filter(pk=ticket_id)
        .first()
    )


def _escalation(policy: RoutingPolicy, queued: QueuedTicket | None, at: dt.datetime) -> tuple[int, bool]:
    """The relax level and overflow a ticket has earned by waiting: one ladder step per skill timeout, and the
    overflow team once the ladder is used up and one more timeout has passed."""
    if queued is None:
        return 0, False
    steps = len(policy_spec(policy).relax_steps)
    timeout = max(1, policy.skill_timeout_seconds)
    periods = int((at - queued.since).total_seconds() // timeout)
    level = min(steps, periods)
    overflow = bool(policy.overflow_team_id) and periods > steps
    return max(level, queued.relax_level), overflow or queued.overflowed


def route_ticket(
    *,
    actor: Actor,
    ticket: Ticket,
    trigger: str,
    now: dt.datetime | None = None,
    exclude: tuple[int, ...] = (),
    expected_assignee_id: int | None = None,
    prefer: tuple[int, ...] = (),
    decision: Decision | None = None,
) -> Outcome:
    """Route one ticket: the matching policy's pool, `decide`, claim the winner under lock, assign through
    `ticket_assign`, record the decision with its explanation on the timeline; no winner → the waiting queue.

    `exclude` leaves agents out (a decline, the agent who went offline); `expected_assignee_id` is the assignee the
    ticket must still have (re-routing) — None means it must be unassigned. `decision` is a batch decision to try
    first (its winner is still re-checked under lock). Only the system routes (the routing tasks, and the
    services that re-route after their own gate)."""
    authorize_system(actor)
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger}")
    at = now or current_time()
    with transaction.atomic():
        locked = _locked_ticket(ticket.pk)
        if locked is None:
            return Outcome(skipped="gone")
        if locked.merged_into_id is not None or locked.status not in LOAD_STATES:
            QueuedTicket.objects.filter(ticket_id=locked.pk).delete()
            return Outcome(skipped="not routable in this state")
        if locked.assignee_id != expected_assignee_id and trigger != Trigger.REOPEN:
            QueuedTicket.objects.filter(ticket_id=locked.pk, ticket__assignee__isnull=False).delete()
            return Outcome(skipped="assignee changed meanwhile")
        policy = policy_for(locked)
        if policy is None:
            QueuedTicket.objects.filter(ticket_id=locked.pk).delete()
            return Outcome(skipped="no routing policy matches")
        queued = QueuedTicket.objects.filter(ticket_id=locked.pk).first()
        excluded = {*exclude, *(queued.excluded_agent_ids if queued else [])}
        relax_level, overflow = _escalation(policy, queued, at)
        pool_team = policy.overflow_team_id if overflow else None
        previous = (*prefer, *([locked.assignee_id] if trigger == Trigger.REOPEN and locked.assignee_id else []))
        spec = ticket_spec(locked, at=at, previous=previous, waiting_since=queued.since if queued else None)
        pspec = policy_spec(policy)
        if decision is None or decision.ticket_id != locked.pk:
            pool = agent_table(
                workspace_id=locked.workspace_id, policy=policy, at=at, team_id=pool_team, exclude=excluded
            )
            decision = decide(spec, pool, pspec, relax_level=relax_level, now=at.timestamp())
        winner = _claim(locked, decision, excluded, trigger=trigger)
        row = _store(
            locked,
            spec.onsite,
            policy,
            decision,
            winner,
            trigger=trigger,
            at=at,
            overflow=overflow,
            queued=queued,
            excluded=excluded,
        )
        if winner is None:
            if trigger == Trigger.REOPEN and locked.assignee_id is not None:
                return Outcome(decision=row, notes=["kept the current assignee: nobody else can take it"])
            if trigger in (Trigger.OFFLINE, Trigger.DECLINE) and locked.assignee_id is not None:
                ticket_assign(ticket=locked, assignee=None, actor=ROUTING_ACTOR)
            _enqueue(
                locked,
                policy,
                row,
                queued=queued,
                at=at,
                relax_level=relax_level,
                overflow=overflow,
                excluded=excluded,
            )
            return Outcome(decision=row, queued=True)
        if winner.pk != locked.assignee_id:
            previous_id = locked.assignee_id
            ticket_assign(ticket=locked, assignee=winner, actor=ROUTING_ACTOR)
            note_assignment(
                locked.workspace_id, agent_id=winner.pk, kind=spec.channel_type, previous_id=previous_id, at=at
            )
        if queued is not None:
            queued.delete()
        _notify_after_commit(locked, winner, row)
        return Outcome(decision=row, assigned_to=winner)


def _ranked(decision: Decision) -> list[int]:
    """The decision's winner, then the other eligible candidates best first (fallbacks when the winner is full)."""
    order: list[int] = []
    if decision.agent_id is not None:
        order.append(decision.agent_id)
    eligible = sorted((c for c in decision.candidates if c.eligible), key=lambda c: -c.score)
    order += [c.agent_id for c in eligible if c.agent_id not in order]
    return order


def _claim(ticket: Ticket, decision: Decision, excluded: set[int], *, trigger: str) -> AgentProfile | None:
    """Lock the winner's row and re-count its load; skip to the next eligible candidate if it is full now."""
    if decision.agent_id is None:
        return None
    kind = channel_type(ticket.channel)
    skip_locked = connection.features.has_select_for_update_skip_locked
    waited = False
    for agent_id in _ranked(decision):
        if agent_id in excluded:
            continue
        # Only the first agent lock may wait; later candidates skip rows another worker holds. A worker therefore
        # never waits while holding an agent lock, so no lock cycle (deadlock) can form.
        qs = AgentProfile.objects.select_for_update(of=("self",), skip_locked=waited and skip_locked)
        agent = qs.select_related("user").filter(pk=agent_id, workspace_id=ticket.workspace_id).first()
        waited = True
        if agent is None or not is_assignable(agent) or agent.status != AgentStatus.ONLINE:
            continue
        if agent.pk == ticket.assignee_id:  # a reopened ticket staying with its agent already counts in the load
            return agent
        capacity = _capacity(agent, kind)
        load = agent_load(agent.pk, ticket.workspace_id, kind)
        note_load(ticket.workspace_id, agent_id=agent.pk, kind=kind, load=load)
        if load < capacity:
            return agent
    return None


def _capacity(agent: AgentProfile, kind: str) -> int:
    try:
        return int((agent.capacity or {}).get(kind, 0))
    except (TypeError, ValueError):
        return 0


def _candidates_json(decision: Decision, names: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "agent_id": c.agent_id,
            "name": names.get(c.agent_id, ""),
            "score": round(float(c.score), 4),
            "factors": {k: round(float(v), 4) for k, v in c.factors.items()},
            "eligible": c.eligible,
            "excluded_because": c.excluded_because,
        }
        for c in decision.candidates
    ]


def _names(ids: set[int]) -> dict[int, str]:
    return {
        pk: display or username
        for pk, display, username in AgentProfile.objects.filter(pk__in=ids).values_list(
            "pk", "user__display_name", "user__username"
        )
    }


def _store(
    ticket: Ticket,
    onsite: bool,
    policy: RoutingPolicy,
    decision: Decision,
    winner: AgentProfile | None,
    *,
    trigger: str,
    at: dt.datetime,
    overflow: bool,
    queued: QueuedTicket | None,
    excluded: set[int],
) -> RoutingDecision | None:
    """Record the decision and put its explanation on the timeline. A ticket that keeps waiting for the same
    reason at the same relax level gets no new row (the queue shows its last reason instead)."""
    reason = decision.reason
    data: dict[str, Any] = dict(decision.reason_data)
    if winner is not None and winner.pk != decision.agent_id:
        reason = (
            f"{reason} The first choice had no room left when the assignment was made, so the next best "
            f"candidate, {winner.name}, got it."
        )
        data["fallback_from"] = decision.agent_id
        data["fallback_name"] = winner.name
    if overflow:
        data["overflow_team_id"] = policy.overflow_team_id
        reason = f"{reason} (Overflow: the pool was the overflow team.)"
    if excluded:
        data["excluded_agent_ids"] = sorted(excluded)
    if (
        winner is None
        and queued is not None
        and queued.relax_level == decision.relax_level
        and queued.overflowed == overflow
        and queued.last_reason == reason
    ):
        return None
    known = agent_names(ticket.workspace_id)
    ids = {c.agent_id for c in decision.candidates}
    names = {i: known[i] for i in ids if i in known}
    if ids - set(names):
        names.update(_names(ids - set(names)))
    if winner is not None:
        names[winner.pk] = winner.name
    row = RoutingDecision.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        policy=policy,
        agent=winner,
        strategy=decision.strategy,
        relax_level=decision.relax_level,
        relaxed=list(decision.relaxed),
        candidates=_candidates_json(decision, names),
        reason=reason,
        reason_data=_jsonable(data),
        trigger=trigger,
        created_at=at,
    )
    explain_on_timeline(ticket=ticket, row=row, policy_name=policy.name, onsite=onsite)
    return row


def explain_on_timeline(
    *, ticket: Ticket, row: RoutingDecision, policy_name: str, actor: Actor | None = None, onsite: bool = False
) -> None:
    """A `routed` timeline event the ticket page renders in plain words (winner, why, what was relaxed)."""
    top = [c for c in row.candidates if c.get("eligible")][:3]
    record(
        ticket=ticket,
        actor=actor or ROUTING_ACTOR,
        verb="routed",
        field="assignee",
        new={"id": row.agent_id, "name": row.agent.name} if row.agent_id and row.agent else None,
        data={
            "decision_id": row.pk,
            "trigger": row.trigger,
            "strategy": row.strategy,
            "policy": policy_name,
            "relax_level": row.relax_level,
            "relaxed": row.relaxed,
            "reason": row.reason,
            "reason_data": row.reason_data,
            "top": top,
            "excluded": sum(1 for c in row.candidates if not c.get("eligible")),
            "onsite": onsite,
        },
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _enqueue(
    ticket: Ticket,
    policy: RoutingPolicy,
    row: RoutingDecision | None,
    *,
    queued: QueuedTicket | None,
    at: dt.datetime,
    relax_level: int,
    overflow: bool,
    excluded: set[int],
) -> QueuedTicket:
    reason = row.reason if row is not None else (queued.last_reason if queued else "")
    reason_data = row.reason_data if row is not None else (queued.last_reason_data if queued else {})
    values = {
        "workspace_id": ticket.workspace_id,
        "policy": policy,
        "priority_rank": PRIORITY_RANK.get(ticket.priority, 1),  # type: ignore[call-overload]
        "sla_due_at": ticket.sla_due_at,
        "relax_level": relax_level,
        "overflowed": overflow,
        "next_attempt_at": at + dt.timedelta(seconds=min(RETRY_SECONDS, max(1, policy.skill_timeout_seconds))),
        "last_reason": reason,
        "last_reason_data": reason_data,
        "excluded_agent_ids": sorted(excluded),
    }
    if queued is None:
        return QueuedTicket.objects.create(ticket=ticket, since=at, attempts=1, **values)
    for key, value in values.items():
        setattr(queued, key, value)
    queued.attempts += 1
    queued.save()
    return queued


def _notify_after_commit(ticket: Ticket, agent: AgentProfile, row: RoutingDecision | None) -> None:
    """Tell the agent about the assignment (the notifications app, when installed), after commit."""
    try:
        from pivotdesk.notifications import services as notifications
    except ImportError:  # pragma: no cover - the notifications app is optional for routing
        return
    notify = getattr(notifications, "notify", None)
    if notify is None:
        return
    workspace = ticket.workspace
    title = f"#{ticket.number} {ticket.subject}"
    body = row.reason if row is not None else ""

    def send() -> None:
        try:
            notify(
                workspace=workspace,
                actor=Actor.system("routing"),
                recipient=agent,
                kind="routing.assigned",
                title=title,
                body=body,
                url=f"/tickets/{ticket.number}/",
                ticket=ticket,
                dedupe_key=f"routing.assigned:{ticket.pk}:{agent.pk}:{row.pk if row else 0}",
                urgent=ticket.priority == "urgent",
            )
        except Exception:  # a notification must never undo or block an assignment
            log.exception("could not notify agent %s of ticket %s", agent.pk, ticket.pk)

    transaction.on_commit(send)
