"""The pure routing engine: who should get a ticket, and why (no Django; see docs/routing.md)."""

from pivotdesk.routing.domain.batch import assignment_value, batch_assign, greedy_assign
from pivotdesk.routing.domain.engine import (
    EXCLUSION_REASONS,
    decide,
    eligible_ids,
    exclusion_reason,
    has_room,
    is_available,
    queue_key,
    ticket_impact,
)
from pivotdesk.routing.domain.model import (
    FACTORS,
    RELAXATION_LADDER,
    STRATEGIES,
    AgentState,
    Candidate,
    Decision,
    PolicySpec,
    Strategy,
    TicketSpec,
    Weights,
    channel_type_for,
)
from pivotdesk.routing.domain.table import AgentTable

__all__ = [
    "EXCLUSION_REASONS",
    "FACTORS",
    "RELAXATION_LADDER",
    "STRATEGIES",
    "AgentState",
    "AgentTable",
    "Candidate",
    "Decision",
    "PolicySpec",
    "Strategy",
    "TicketSpec",
    "Weights",
    "assignment_value",
    "batch_assign",
    "channel_type_for",
    "decide",
    "eligible_ids",
    "exclusion_reason",
    "greedy_assign",
    "has_room",
    "is_available",
    "queue_key",
    "ticket_impact",
]
