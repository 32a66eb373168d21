"""Reads of the sla app: always scoped to a workspace (other workspaces' rows look the same as missing), plus the
due-scan's range query and the cheap checks the subscriber table runs before queueing a task."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.sla.domain.conditions import ConditionError
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.sla.models import BusinessCalendar, SLACheckFailure, SLAFiring, SLAPolicy, TicketSLA
from pivotdesk.tickets.models import Ticket

# ticket.updated fields that can change which policy applies, which targets count, or the calendar (a status change
# has its own event, ticket.status_changed, which is subscribed too).
RELEVANT_FIELDS = frozenset({"priority", "tags", "category", "ticket_type", "team", "organization"})


def due_tickets(
    *, at: dt.datetime, limit: int, after: tuple[dt.datetime, int] | None = None
) -> list[tuple[int, dt.datetime]]:
    """(id, sla_next_check_at) of tickets whose next SLA check is due by `at`, soonest first, after a keyset
    position. A range over the sla_next_check_at index: tickets without running clocks hold NULL there."""
    qs = Ticket.objects.filter(sla_next_check_at__lte=at)
    if after is not None:
        check_at, pk = after
        qs = qs.filter(Q(sla_next_check_at__gt=check_at) | Q(sla_next_check_at=check_at, pk__gt=pk))
    rows = qs.order_by("sla_next_check_at", "pk").values_list("pk", "sla_next_check_at")[:limit]
    return [(pk, check_at) for pk, check_at in rows if check_at is not None]


def policy_list(*, workspace: Workspace) -> QuerySet[SLAPolicy]:
    """The workspace's policies in matching order."""
    return SLAPolicy.objects.filter(workspace=workspace).order_by("position", "pk")


def access_policy(*, workspace: Workspace, policy_id: int) -> SLAPolicy:
    """A policy of this workspace by id, else NotFound."""
    policy = SLAPolicy.objects.filter(workspace=workspace, pk=policy_id).first()
    if policy is None:
        raise NotFound(gettext("SLA policy not found."), code=SlaErrorCode.POLICY_NOT_FOUND)
    return policy


def calendar_list(*, workspace: Workspace) -> QuerySet[BusinessCalendar]:
    """The workspace's business calendars by name."""
    return BusinessCalendar.objects.filter(workspace=workspace).order_by("name")


def access_calendar(*, workspace: Workspace, calendar_id: int) -> BusinessCalendar:
    """A calendar of this workspace by id, else NotFound."""
    calendar = BusinessCalendar.objects.filter(workspace=workspace, pk=calendar_id).first()
    if calendar is None:
        raise NotFound(gettext("Business calendar not found."), code=SlaErrorCode.CALENDAR_NOT_FOUND)
    return calendar


def ticket_clocks(*, ticket: Ticket) -> QuerySet[TicketSLA]:
    """A ticket's clocks (one per metric), in a stable order."""
    return TicketSLA.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket).select_related("policy")


def ticket_firings(*, ticket: Ticket) -> QuerySet[SLAFiring]:
    """What fired for a ticket (warnings, breaches, escalations), oldest first."""
    return SLAFiring.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket).order_by("fired_at", "pk")


def workspace_has_active_policy(workspace_id: int) -> bool:
    """An indexed EXISTS over (workspace, active, position)."""
    return SLAPolicy.objects.filter(workspace_id=workspace_id, active=True).exists()


def event_needs_sla(event: dict[str, Any]) -> bool:
    """Whether an event could change a ticket's clocks (checked before queueing `sla.apply_on_event`): the
    workspace has an active policy (or the ticket still has clocks to clear), and the event is one that matters."""
    payload = event.get("payload") or {}
    name = event.get("name", "")
    if name == "ticket.updated" and not RELEVANT_FIELDS & set(payload.get("fields") or ()):
        return False
    if name == "message.created" and payload.get("kind") != "public":
        return False
    if workspace_has_active_policy(int(event["workspace_id"])):
        return True
    ticket_id = payload.get("ticket_id")
    return ticket_id is not None and TicketSLA.objects.filter(ticket_id=ticket_id).exists()


def event_may_rematch_contact(event: dict[str, Any]) -> bool:
    """Whether a contact event could move the contact's tickets to another policy (checked before queueing
    `sla.recheck_on_contact_event`): an active policy of the workspace looks at the customer's tier — or, for a
    merge, which moves tickets to another requester and organization, at the organization."""
    merged = event.get("name") == "contact.merged"
    policies = SLAPolicy.objects.filter(workspace_id=int(event["workspace_id"]), active=True)
    for policy in policies.only("pk", "conditions"):
        try:
            conditions = policy.parsed_conditions()
        except ConditionError:
            continue
        if conditions.tiers or (merged and conditions.organization_ids):
            return True
    return False


def event_may_rematch_organization(event: dict[str, Any]) -> bool:
    """Whether an organization update could move its tickets to another policy: its tier changed and an active
    policy of the workspace looks at tiers (checked before queueing `sla.recheck_on_organization_event`)."""
    if "tier" not in ((event.get("payload") or {}).get("fields") or []):
        return False
    policies = SLAPolicy.objects.filter(workspace_id=int(event["workspace_id"]), active=True)
    for policy in policies.only("pk", "conditions"):
        try:
            conditions = policy.parsed_conditions()
        except ConditionError:
            continue
        if conditions.tiers:
            return True
    return False


def failing_checks(*, workspace: Workspace) -> QuerySet[SLACheckFailure]:
    """Tickets of the workspace whose SLA check fails (unresolved), the longest failing first."""
    return (
        SLACheckFailure.objects.filter(workspace=workspace, resolved_at__isnull=True)
        .select_related("ticket")
        .order_by("first_failed_at", "pk")
    )
