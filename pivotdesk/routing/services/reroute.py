"""Re-routing: an agent going offline or away, a reopened ticket, an agent declining with a reason, a supervisor
overriding with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, AgentStatus
from pivotdesk.accounts.permissions import AGENT_KINDS, Perm, authorize, authorize_system, is_assignable
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now as current_time
from pivotdesk.routing.errors import RoutingErrorCode
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, Trigger
from pivotdesk.routing.services.dispatch import ROUTING_ACTOR, Outcome, explain_on_timeline, route_ticket
from pivotdesk.routing.services.policies import active_policies, policy_for
from pivotdesk.routing.services.pool import LOAD_STATES, note_presence
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import ticket_assign
from pivotdesk.tickets.services.timeline import record

MAX_REASON = 500


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed(
            gettext("Give a reason."), code=RoutingErrorCode.REASON_REQUIRED, details={"reason": "required"}
        )
    if len(text) > MAX_REASON:
        raise ValidationFailed(
            gettext("A reason is at most %(count)s characters.") % {"count": MAX_REASON},
            code=RoutingErrorCode.REASON_TOO_LONG,
            details={"reason": "too long"},
        )
    return text


def ticket_decline(*, ticket: Ticket, actor: Actor, reason: str) -> Outcome:
    """The assignee gives a ticket back with a reason; it is routed again without them (or waits). The system or
    automation (which pass the gate) decline in the name of the current assignee."""
    text = _reason(reason)
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    person = actor.kind in AGENT_KINDS
    if person and actor.agent is None:
        raise PermissionDenied(gettext("Only the assignee can decline a ticket."), code=RoutingErrorCode.NOT_ASSIGNEE)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        agent = actor.agent if person else locked.assignee
        if agent is None or locked.assignee_id != agent.pk:
            raise Conflict(
                gettext("Only the current assignee can decline this ticket."), code=RoutingErrorCode.NOT_ASSIGNEE
            )
        if locked.status not in LOAD_STATES:
            raise Conflict(gettext("Only new or open tickets can be declined."), code=RoutingErrorCode.NOT_ROUTABLE)
        record(ticket=locked, actor=actor, verb="routing_declined", data={"reason": text})
        outcome = route_ticket(
            actor=ROUTING_ACTOR,
            ticket=locked,
            trigger=Trigger.DECLINE,
            exclude=(agent.pk,),
            expected_assignee_id=agent.pk,
        )
        if outcome.skipped:  # no policy matches: give it back to the unassigned tickets
            ticket_assign(ticket=locked, assignee=None, actor=actor)
    return outcome


def ticket_override(*, ticket: Ticket, actor: Actor, agent: AgentProfile, reason: str) -> RoutingDecision:
    """A supervisor assigns a ticket by hand with a reason (capacity is the supervisor's call); recorded as an
    `override` decision and on the timeline."""
    text = _reason(reason)
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=ticket.workspace_id)
    if agent.workspace_id != ticket.workspace_id:
        raise ValidationFailed(
            gettext("Unknown agent."), code=RoutingErrorCode.UNKNOWN_REFERENCE, details={"agent": "not found"}
        )
    if not is_assignable(agent):
        raise ValidationFailed(
            gettext("%(name)s cannot be assigned tickets.") % {"name": agent.name},
            code=RoutingErrorCode.NOT_ASSIGNABLE,
            details={"agent": "not assignable"},
        )
    at = current_time()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        if locked.merged_into_id is not None or not locked.is_open:
            raise Conflict(
                gettext("Solved, closed or merged tickets cannot be reassigned."), code=RoutingErrorCode.NOT_ROUTABLE
            )
        previous = locked.assignee_id
        if previous != agent.pk:
            ticket_assign(ticket=locked, assignee=agent, actor=actor)
        QueuedTicket.objects.filter(ticket_id=locked.pk).delete()
        policy = policy_for(locked)
        row = RoutingDecision.objects.create(
            workspace_id=locked.workspace_id,
            ticket=locked,
            policy=policy,
            agent=agent,
            strategy=policy.strategy if policy else "weighted",
            relax_level=0,
            relaxed=[],
            candidates=[],
            reason=f"Assigned by {actor.display}: {text}",
            reason_data={"override": True, "reason": text, "previous_agent_id": previous, "by": actor.display},
            trigger=Trigger.OVERRIDE,
            by=actor.agent,
            created_at=at,
        )
        explain_on_timeline(ticket=locked, row=row, policy_name=policy.name if policy else "", actor=actor)
    return row


@dataclass
class RerouteResult:
    moved: int = 0
    waiting: int = 0
    kept: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def agent_went_unavailable(
    *, actor: Actor, agent_id: int, status: str, now: dt.datetime | None = None
) -> RerouteResult:
    """An agent went offline or away: their new/open tickets whose policy asks for it are routed to others
    (those nobody can take wait in the queue, unassigned and visible). Only the system re-routes."""
    authorize_system(actor)
    result = RerouteResult()
    agent = AgentProfile.objects.filter(pk=agent_id).first()
    if agent is None or agent.status != status or status == AgentStatus.ONLINE:
        return result  # stale event: they are back already
    policies = active_policies(agent.workspace_id)
    if not policies:
        return result
    flag = "reroute_on_offline" if status == AgentStatus.OFFLINE else "reroute_on_away"
    tickets = Ticket.objects.filter(
        workspace_id=agent.workspace_id, assignee_id=agent.pk, status__in=LOAD_STATES, merged_into__isnull=True
    ).select_related("requester__organization", "category")
    for ticket in tickets.order_by("pk"):
        policy = policy_for(ticket, policies)
        if policy is None or not getattr(policy, flag):
            result.kept += 1
            continue
        outcome = route_ticket(
            actor=actor,
            ticket=ticket,
            trigger=Trigger.OFFLINE,
            exclude=(agent.pk,),
            expected_assignee_id=agent.pk,
            now=now,
        )
        result.outcomes.append(outcome)
        if outcome.assigned_to is not None:
            result.moved += 1
        elif outcome.queued:
            result.waiting += 1
    return result


def on_agent_status(*, actor: Actor, workspace_id: int, agent_id: int, new: str) -> None:
    """agent.status_changed: forget the cached pool; going offline/away re-routes, coming online drains.
    Only the system reacts (the routing task)."""
    authorize_system(actor)
    from pivotdesk.routing.services.queue import drain_queue

    note_presence(workspace_id, agent_id=agent_id, status=new)
    if new in (AgentStatus.OFFLINE, AgentStatus.AWAY):
        agent_went_unavailable(actor=actor, agent_id=agent_id, status=new)
    elif new == AgentStatus.ONLINE:
        drain_queue(actor=actor, workspace_id=workspace_id)
