"""Input and output schemas of the routing API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class PolicyIn(Schema):
    name: str = Field(..., max_length=120)
    position: int | None = None
    active: bool = True
    conditions: dict[str, Any] = Field(
        default_factory=dict, description="Lists of channels, categories (ids), priorities, tiers, languages, tags."
    )
    strategy: str = Field("weighted", description="round_robin, least_loaded, skills_best_fit or weighted.")
    weights: dict[str, float] | None = None
    seniority_by_tier: dict[str, int] | None = None
    require_language: bool = True
    max_distance_km: float | None = None
    team: int | None = None
    overflow_team: int | None = None
    skill_timeout_seconds: int = 300
    relax_enabled: bool = True
    reroute_on_offline: bool = True
    reroute_on_away: bool = False
    batch_threshold: int = 20


class PolicyPatch(Schema):
    name: str | None = Field(None, max_length=120)
    position: int | None = None
    active: bool | None = None
    conditions: dict[str, Any] | None = None
    strategy: str | None = None
    weights: dict[str, float] | None = None
    seniority_by_tier: dict[str, int] | None = None
    require_language: bool | None = None
    max_distance_km: float | None = None
    team: int | None = None
    overflow_team: int | None = None
    skill_timeout_seconds: int | None = None
    relax_enabled: bool | None = None
    reroute_on_offline: bool | None = None
    reroute_on_away: bool | None = None
    batch_threshold: int | None = None


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    conditions: dict[str, Any]
    strategy: str
    weights: dict[str, float]
    seniority_by_tier: dict[str, int]
    require_language: bool
    max_distance_km: float | None
    team_id: int | None
    overflow_team_id: int | None
    skill_timeout_seconds: int
    relax_enabled: bool
    reroute_on_offline: bool
    reroute_on_away: bool
    batch_threshold: int


class DecisionOut(Schema):
    id: int
    ticket_id: int
    policy_id: int | None
    agent_id: int | None
    strategy: str
    trigger: str
    relax_level: int
    relaxed: list[str]
    reason: str
    reason_data: dict[str, Any]
    candidates: list[dict[str, Any]]
    by_id: int | None
    created_at: dt.datetime


class QueuedOut(Schema):
    ticket_id: int
    ticket_number: int
    priority: str
    since: dt.datetime
    waiting_seconds: int
    relax_level: int
    overflowed: bool
    attempts: int
    last_reason: str


class ReasonIn(Schema):
    reason: str = Field(..., max_length=500)


class OverrideIn(Schema):
    agent_id: int
    reason: str = Field(..., max_length=500)


class OutcomeOut(Schema):
    assigned_to: int | None
    queued: bool
    decision_id: int | None
