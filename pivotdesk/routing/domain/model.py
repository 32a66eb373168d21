"""The values the routing engine works on: agents, tickets, policies, and the decisions it returns.

Pure data (frozen dataclasses), no Django: the routing app turns rows into these, calls `engine.decide` or
`batch.batch_assign`, and stores the `Decision` (its `reason` for the timeline, its `reason_data` for the UI).
Mappings passed in are read, never changed; the dataclasses are frozen but hold plain dicts, so they are not
hashable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Strategy = Literal["round_robin", "least_loaded", "skills_best_fit", "weighted"]
STRATEGIES: tuple[Strategy, ...] = ("round_robin", "least_loaded", "skills_best_fit", "weighted")

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")

# The requirements the engine gives up one by one when nobody fully matches (docs/routing.md explains each step).
# `relax_level` n means the first n steps of `PolicySpec.relax_steps` are applied.
RELAXATION_LADDER: tuple[str, ...] = ("skill_level", "seniority_pool", "language", "distance", "skills", "team")

# Ticket channel (pivotdesk.common.choices.Channel) → the channel type capacities are counted in.
CHANNEL_TYPES: Mapping[str, str] = {
    "email": "email",
    "web_form": "email",
    "api": "email",
    "import": "email",
    "agent": "email",
    "chat": "chat",
    "wechat": "messaging",
    "wecom": "messaging",
    "whatsapp": "messaging",
    "telegram": "messaging",
    "messenger": "messaging",
    "line": "messaging",
    "sms": "messaging",
    "voice": "voice",
    "video": "voice",
}


def channel_type_for(channel: str) -> str:
    """The capacity bucket of a ticket channel (`wechat` → `messaging`); unknown channels count as email."""
    return CHANNEL_TYPES.get(channel, "email")


@dataclass(frozen=True)
class AgentState:
    """One agent as routing sees it at decision time."""

    id: int
    name: str = ""
    online: bool = True  # presence online (away/offline are not routable)
    on_shift: bool = True  # from the workforce schedule when it exists
    on_leave: bool = False
    skills: Mapping[str, int] = field(default_factory=dict)  # skill name → level 1..5
    languages: frozenset[str] = frozenset()
    load: Mapping[str, int] = field(default_factory=dict)  # channel type → open tickets in SLA-active states
    capacity: Mapping[str, int] = field(default_factory=dict)  # channel type → max; a missing type means 0
    seniority: int = 2  # 1 junior, 2 intermediate, 3 senior, 4 expert
    team_ids: frozenset[int] = frozenset()
    location: tuple[float, float] | None = None  # lat, lon
    recent_assignments: int = 0  # assignments in the fairness window
    last_assigned_at: float = 0.0  # epoch seconds, for round-robin


@dataclass(frozen=True)
class TicketSpec:
    """One ticket as routing sees it: what it needs and how much it matters."""

    id: int
    channel_type: str = "email"
    priority: str = "normal"  # low, normal, high, urgent
    tier: str = "standard"  # standard, vip, strategic
    language: str = ""
    required_skills: Mapping[str, int] = field(default_factory=dict)  # skill → minimum level (category/product)
    team_id: int | None = None
    location: tuple[float, float] | None = None
    onsite: bool = False
    sla_minutes_left: float | None = None
    affected_users: int = 1
    previous_agent_ids: tuple[int, ...] = ()  # agents who helped this customer, most recent first (continuity)
    waiting_since: float = 0.0  # epoch seconds


@dataclass(frozen=True)
class Weights:
    """How much each factor counts in the `weighted` strategy (any non-negative numbers; only ratios matter)."""

    skill: float = 3.0
    language: float = 2.0
    load: float = 2.0
    value: float = 1.5
    impact: float = 1.0
    geography: float = 1.0
    continuity: float = 1.0
    fairness: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in FACTORS}


# The factor keys, in the order explanations list them.
FACTORS: tuple[str, ...] = ("skill", "language", "load", "value", "impact", "geography", "continuity", "fairness")


def _default_seniority_by_tier() -> dict[str, int]:
    return {"vip": 3, "strategic": 4}


@dataclass(frozen=True)
class PolicySpec:
    """How to choose: the strategy, its weights and the hard requirements (until relaxed)."""

    strategy: Strategy = "weighted"
    weights: Weights = field(default_factory=Weights)
    seniority_by_tier: Mapping[str, int] = field(default_factory=_default_seniority_by_tier)  # tier → min seniority
    require_language: bool = True
    max_distance_km: float | None = None  # for onsite tickets
    relax_steps: tuple[str, ...] = RELAXATION_LADDER


@dataclass(frozen=True)
class Candidate:
    """One agent considered for a ticket: its score and factor values, or why it was left out."""

    agent_id: int
    score: float
    factors: Mapping[str, float]
    eligible: bool
    excluded_because: str = ""


@dataclass(frozen=True)
class Decision:
    """The outcome of routing one ticket, with everything needed to explain it."""

    ticket_id: int
    agent_id: int | None  # None → nobody fits at this relax level: the ticket waits
    strategy: Strategy
    relax_level: int
    relaxed: tuple[str, ...]  # ladder steps applied
    candidates: tuple[Candidate, ...]  # top eligible (best first) + a sample of excluded agents with reasons
    reason: str  # plain-language English for the timeline
    reason_data: Mapping[str, Any]  # structured version, so the UI can translate it

    @property
    def assigned(self) -> bool:
        return self.agent_id is not None

    @property
    def score(self) -> float | None:
        """The winner's score (None when the ticket waits)."""
        for candidate in self.candidates:
            if candidate.agent_id == self.agent_id and candidate.eligible:
                return candidate.score
        return None
