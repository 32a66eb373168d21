"""The pure descriptions of what routing decides about: `TicketSpec` for a ticket (its requirements from the
category tree, tier, language, device site, SLA time left, previous agents) and `PolicySpec` for a policy.

The category-skill tree is cached with the pool (`pool.category_tree`, same version key). `ticket_spec` makes one query (the
customer's previous agents, compiled once per process) when the ticket was loaded with `DEVICE_LINK`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, cast

from django.db.models import QuerySet

from pivotdesk.common.choices import channel_type
from pivotdesk.common.compiled import compiled_rows
from pivotdesk.routing.domain import PolicySpec, Strategy, TicketSpec, Weights
from pivotdesk.routing.models import RoutingPolicy, TicketDevice
from pivotdesk.routing.services import pool
from pivotdesk.routing.services.pool import _is_int, _lang
from pivotdesk.tickets.models import Ticket

ONSITE_FIELD = "onsite"
AFFECTED_USERS_FIELD = "affected_users"


def required_skills(ticket: Ticket) -> dict[str, int]:
    """Skills (name → minimum level) the ticket's category and its ancestors require."""
    if ticket.category_id is None:
        return {}
    tree = pool.category_tree(ticket.workspace_id)
    required: dict[str, int] = {}
    node: int | None = ticket.category_id
    seen: set[int] = set()
    while node is not None and node in tree and node not in seen:
        seen.add(node)
        parent, own = tree[node]
        for name, level in own.items():
            required[name] = max(level, required.get(name, 0))
        node = parent
    return required


def ticket_tier(ticket: Ticket) -> str:
    """The customer's tier: the contact's own override, else the organisation's, else standard."""
    requester = ticket.requester
    return str(requester.effective_tier)


# Add to a ticket query's select_related so `ticket_spec` needs no query of its own for the device link.
DEVICE_LINK = "routing_device__device"


def ticket_device(ticket: Ticket) -> TicketDevice | None:
    """The ticket's device link: from the ticket's select_related (`DEVICE_LINK`) when it was loaded so, else
    one query."""
    descriptor = Ticket.routing_device  # reverse one-to-one from TicketDevice
    if descriptor.is_cached(ticket):
        return cast(TicketDevice | None, getattr(ticket, "routing_device", None))
    return TicketDevice.objects.select_related("device").filter(ticket_id=ticket.pk).first()


def is_onsite(ticket: Ticket, link: TicketDevice | None) -> bool:
    """On-site work: the device link says so, or the ticket's `onsite` custom field is set."""
    if link is not None and link.onsite:
        return True
    return bool(ticket.custom_fields.get(ONSITE_FIELD)) if isinstance(ticket.custom_fields, dict) else False


def previous_agents(ticket: Ticket, extra: Iterable[int] = ()) -> tuple[int, ...]:
    """Agents who helped this customer before, most recent first (continuity)."""
    ids = [i for i in extra if i]
    args = (ticket.workspace_id, ticket.requester_id, ticket.pk)
    recent = [row[0] for row in compiled_rows("routing.previous_agents", _previous_query, args)]
    for agent_id in recent:
        if agent_id not in ids:
            ids.append(agent_id)
    return tuple(ids)


def _previous_query(workspace_id: int, requester_id: int, ticket_id: int) -> QuerySet[Any, Any]:
    return (
        Ticket.objects.filter(workspace_id=workspace_id, requester_id=requester_id, assignee__isnull=False)
        .exclude(pk=ticket_id)
        .order_by("-updated_at")
        .values_list("assignee_id")[:5]
    )


def ticket_spec(
    ticket: Ticket,
    *,
    at: dt.datetime,
    previous: Iterable[int] = (),
    waiting_since: dt.datetime | None = None,
) -> TicketSpec:
    """The pure description of a ticket the domain routes."""
    link = ticket_device(ticket)
    location = None
    if link is not None and link.device.latitude is not None and link.device.longitude is not None:
        location = (link.device.latitude, link.device.longitude)
    sla_left = None
    if ticket.sla_due_at is not None:
        sla_left = (ticket.sla_due_at - at).total_seconds() / 60.0
    affected = 1
    if isinstance(ticket.custom_fields, dict) and _is_int(ticket.custom_fields.get(AFFECTED_USERS_FIELD)):
        affected = max(1, int(ticket.custom_fields[AFFECTED_USERS_FIELD]))
    return TicketSpec(
        id=ticket.pk,
        channel_type=channel_type(ticket.channel),
        priority=ticket.priority,
        tier=ticket_tier(ticket),
        language=_lang(ticket.language) if ticket.language else "",
        required_skills=required_skills(ticket),
        team_id=ticket.team_id,
        location=location,
        onsite=is_onsite(ticket, link),
        sla_minutes_left=sla_left,
        affected_users=affected,
        previous_agent_ids=previous_agents(ticket, previous),
        waiting_since=(waiting_since or ticket.created_at).timestamp(),
    )


def policy_spec(policy: RoutingPolicy | None) -> PolicySpec:
    """The pure policy; no policy (a supervisor's preview without one) is the default weighted policy."""
    if policy is None:
        return PolicySpec()
    known = set(Weights.__dataclass_fields__)
    weights = {k: float(v) for k, v in (policy.weights or {}).items() if k in known and _is_number(v)}
    spec = PolicySpec(
        strategy=cast(Strategy, policy.strategy),
        weights=Weights(**weights),
        seniority_by_tier={str(k): int(v) for k, v in (policy.seniority_by_tier or {}).items() if _is_int(v)},
        require_language=policy.require_language,
        max_distance_km=policy.max_distance_km,
    )
    if not policy.relax_enabled:
        spec = replace(spec, relax_steps=())
    return spec


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
