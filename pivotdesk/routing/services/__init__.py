"""Every write of the routing app goes through these services (split by purpose)."""

from pivotdesk.routing.services.dispatch import Outcome, route_ticket
from pivotdesk.routing.services.field import device_link, part_usage_record
from pivotdesk.routing.services.policies import (
    category_skill_set,
    clean_conditions,
    policy_create,
    policy_delete,
    policy_for,
    policy_update,
)
from pivotdesk.routing.services.queue import BacklogResult, DrainResult, backlog_route, drain_queue
from pivotdesk.routing.services.reroute import agent_went_unavailable, on_agent_status, ticket_decline, ticket_override

__all__ = [
    "BacklogResult",
    "DrainResult",
    "Outcome",
    "agent_went_unavailable",
    "backlog_route",
    "category_skill_set",
    "clean_conditions",
    "device_link",
    "drain_queue",
    "on_agent_status",
    "part_usage_record",
    "policy_create",
    "policy_delete",
    "policy_for",
    "policy_update",
    "route_ticket",
    "ticket_decline",
    "ticket_override",
]
