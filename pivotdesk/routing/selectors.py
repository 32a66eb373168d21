"""Reads of the routing app, always scoped by workspace; plus the cheap subscriber checks (config.subscribers.WHEN)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import assignable_q
from pivotdesk.common.choices import channel_type
from pivotdesk.common.errors import NotFound
from pivotdesk.common.time import now
from pivotdesk.routing.errors import RoutingErrorCode
from pivotdesk.routing.models import (
    QUEUE_ORDER,
    Device,
    DevicePartUsage,
    QueuedTicket,
    RoutingDecision,
    RoutingPolicy,
    TicketDevice,
)
from pivotdesk.routing.services.pool import LOAD_STATES
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.workforce.selectors import availability

# ---- subscriber checks: an indexed EXISTS or a look at the payload, run in the publishing process ----------


def _has_policy(workspace_id: Any) -> bool:
    return (
        isinstance(workspace_id, int) and RoutingPolicy.objects.filter(workspace_id=workspace_id, active=True).exists()
    )


def event_may_route(event: dict[str, Any]) -> bool:
    """ticket.created in a workspace with an active routing policy."""
    return _has_policy(event.get("workspace_id"))


def event_status_matters(event: dict[str, Any]) -> bool:
    """ticket.status_changed that reopens a ticket (with a policy) or solves/closes one (with tickets waiting)."""
    payload = event.get("payload") or {}
    old, new = payload.get("old"), payload.get("new")
    closed = (Status.SOLVED, Status.CLOSED)
    if old in closed and new in (Status.NEW, Status.OPEN):
        return _has_policy(event.get("workspace_id"))
    if new not in (Status.NEW, Status.OPEN):
        return _queue_not_empty(event)
    return False


def _queue_not_empty(event: dict[str, Any]) -> bool:
    workspace_id = event.get("workspace_id")
    return isinstance(workspace_id, int) and QueuedTicket.objects.filter(workspace_id=workspace_id).exists()


def event_frees_capacity(event: dict[str, Any]) -> bool:
    """ticket.assigned to nobody while tickets wait, or to someone while that ticket waits in the queue."""
    payload = event.get("payload") or {}
    if payload.get("assignee_id") is None:
        return _queue_not_empty(event)
    ticket_id = payload.get("ticket_id")
    return isinstance(ticket_id, int) and QueuedTicket.objects.filter(ticket_id=ticket_id).exists()


ROUTING_FIELDS = frozenset({"category", "language", "priority", "team", "tags", "custom_fields"})


def event_changes_waiting_ticket(event: dict[str, Any]) -> bool:
    """ticket.updated changing what routing looks at, on a ticket that waits in the queue."""
    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if not ROUTING_FIELDS & set(payload.get("fields") or ()) or not isinstance(ticket_id, int):
        return False
    return QueuedTicket.objects.filter(ticket_id=ticket_id).exists()


def event_agent_status(event: dict[str, Any]) -> bool:
    """agent.status_changed in a workspace with an active routing policy."""
    return _has_policy(event.get("workspace_id"))


# ---- the dispatch board ------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    """One agent on the live board."""

    agent: AgentProfile
    load: dict[str, int]
    capacity: dict[str, int]
    skills: list[tuple[str, int]]
    tickets: list[Ticket] = field(default_factory=list)
    on_leave: bool = False
    off_shift: bool = False  # a roster covers now and this agent is not scheduled

    @property
    def buckets(self) -> list[tuple[str, int, int]]:
        kinds = sorted(set(self.capacity) | set(self.load))
        return [(k, self.load.get(k, 0), int(self.capacity.get(k, 0))) for k in kinds]


def board(*, workspace: Workspace, team_id: int | None = None, tickets_per_agent: int = 5) -> list[BoardRow]:
    """Every routable agent with status, load/capacity per channel type, skills and current tickets (few queries)."""
    agents = (
        AgentProfile.objects.filter(assignable_q(), workspace=workspace)
        .select_related("user")
        .prefetch_related("skills__skill")
        .order_by("status", "user__display_name", "user__username")
    )
    if team_id is not None:
        agents = agents.filter(teams__id=team_id)
    agents_list = list(agents)
    ids = [a.pk for a in agents_list]
    open_tickets = (
        Ticket.objects.filter(workspace=workspace, assignee_id__in=ids, status__in=LOAD_STATES)
        .only("pk", "number", "subject", "priority", "status", "channel", "assignee_id", "sla_due_at")
        .order_by("sla_due_at", "-priority", "pk")
    )
    load: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    current: dict[int, list[Ticket]] = defaultdict(list)
    for t in open_tickets:
        if t.assignee_id is None:
            continue
        load[t.assignee_id][channel_type(t.channel)] += 1
        if len(current[t.assignee_id]) < tickets_per_agent:
            current[t.assignee_id].append(t)
    at = now()
    when = availability(workspace.pk, at)
    return [
        BoardRow(
            agent=a,
            load=dict(load.get(a.pk, {})),
            capacity={str(k): int(v) for k, v in (a.capacity or {}).items() if str(v).lstrip("-").isdigit()},
            skills=sorted(((s.skill.name, s.level) for s in a.skills.all()), key=lambda x: (-x[1], x[0])),
            tickets=current.get(a.pk, []),
            on_leave=a.pk in when.on_leave,
            off_shift=not when.is_on_shift(a.pk),
        )
        for a in agents_list
    ]


def queue(*, workspace: Workspace) -> list[QueuedTicket]:
    """The waiting tickets in queue order, with their ticket and policy."""
    return list(
        QueuedTicket.objects.filter(workspace=workspace, ticket__assignee__isnull=True, ticket__status__in=LOAD_STATES)
        .select_related("ticket__requester", "policy")
        .order_by(*QUEUE_ORDER)
    )


@dataclass
class Backlog:
    """Open tickets nobody holds that are not in the waiting queue (the first `tickets`, and how many in all)."""

    count: int
    tickets: list[Ticket]


def unqueued_backlog(*, workspace: Workspace, limit: int = 50) -> Backlog:
    """New and open tickets without an assignee that never reached the waiting queue, oldest first: created before
    routing was configured, while no policy matched, or left unassigned by hand. The dispatch page shows them beside
    the queue, so "nobody is waiting" is never said while tickets wait unseen."""
    queued = QueuedTicket.objects.filter(workspace=workspace).values("ticket_id")
    qs = (
        Ticket.objects.filter(workspace=workspace, assignee__isnull=True, status__in=LOAD_STATES)
        .filter(merged_into__isnull=True)
        .exclude(pk__in=queued)
    )
    rows = list(qs.select_related("requester", "custom_status").order_by("created_at", "pk")[:limit])
    count = len(rows) if len(rows) < limit else qs.count()
    return Backlog(count=count, tickets=rows)


def policy_list(*, workspace: Workspace) -> QuerySet[RoutingPolicy]:
    return RoutingPolicy.objects.filter(workspace=workspace).select_related("team", "overflow_team")


def access_policy(*, workspace: Workspace, policy_id: int) -> RoutingPolicy:
    """A policy of this workspace, else NotFound."""
    policy = RoutingPolicy.objects.filter(workspace=workspace, pk=policy_id).first()
    if policy is None:
        raise NotFound(gettext("Routing policy not found."), code=RoutingErrorCode.POLICY_NOT_FOUND)
    return policy


def decisions_for(*, ticket: Ticket, limit: int = 10) -> list[RoutingDecision]:
    """The latest routing decisions of a ticket, newest first."""
    return list(
        RoutingDecision.objects.filter(ticket=ticket, workspace_id=ticket.workspace_id)
        .select_related("agent__user", "policy", "by__user")
        .order_by("-created_at", "-pk")[:limit]
    )


def recent_decisions(*, workspace: Workspace, limit: int = 20) -> list[RoutingDecision]:
    return list(
        RoutingDecision.objects.filter(workspace=workspace)
        .select_related("agent__user", "ticket", "by__user")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass
class FieldView:
    """What an engineer needs on site: the device, its previous tickets, the parts it usually needs."""

    link: TicketDevice
    history: list[Ticket]
    parts: list[dict[str, Any]]


def field_view(*, ticket: Ticket) -> FieldView | None:
    """The device of an on-site ticket with its repair history and usual parts (with stock); None otherwise."""
    link = TicketDevice.objects.select_related("device").filter(ticket=ticket, workspace_id=ticket.workspace_id).first()
    if link is None:
        return None
    device: Device = link.device
    history_ids = TicketDevice.objects.filter(device=device).exclude(ticket=ticket).values_list("ticket_id", flat=True)
    history = list(
        Ticket.objects.filter(pk__in=history_ids, workspace_id=ticket.workspace_id)
        .select_related("assignee__user", "custom_status")
        .order_by("-created_at")[:10]
    )
    parts = [
        dict(row)
        for row in DevicePartUsage.objects.filter(device=device)
        .values("part_id", "part__sku", "part__name", "part__stock")
        .annotate(used=Sum("quantity"), times=Count("pk"))
        .order_by("-used", "part__sku")[:10]
    ]
    return FieldView(link=link, history=history, parts=parts)
