"""Choosing the agent for one ticket: hard filters, then a score per strategy, then an explained `Decision`.

`decide` is the entry point. The agents become numpy columns (`table.AgentTable`); the hard filters (availability,
room for the ticket's channel type, the requirements not yet relaxed) are masks over them, and only the eligible
agents are scored. `evaluate` exposes the scored arrays to the batch assigner. `exclusion_reason` is the scalar
version of the filters, for one agent (and the reference the property tests hold the masks to).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pivotdesk.routing.domain import factors as f
from pivotdesk.routing.domain.explain import explain
from pivotdesk.routing.domain.model import FACTORS, AgentState, Candidate, Decision, PolicySpec, TicketSpec
from pivotdesk.routing.domain.table import AgentTable, haversine_many

FloatArray = npt.NDArray[np.float64]

# Why an agent was left out, in the order the filters run (the UI translates these keys).
EXCLUSION_REASONS: tuple[str, ...] = (
    "offline",
    "off_shift",
    "on_leave",
    "no_room",
    "team",
    "skill_missing",
    "skill_level",
    "language",
    "seniority",
    "distance",
)
_REASON_CODE = {name: code for code, name in enumerate(EXCLUSION_REASONS, start=1)}
TOP_CANDIDATES = 5  # eligible agents kept on a decision
EXCLUDED_SAMPLE = 5  # excluded agents kept on a decision (one per reason, the closest misses first)
# On-site work: travel dominates, so the geography weight counts this many times for on-site tickets.
ONSITE_GEOGRAPHY_BOOST = 3.0
# skills_best_fit ranks by fit, then load: the load term is small enough never to overturn one step of fit.
BEST_FIT_LOAD_TIEBREAK = 0.01
# Round robin in batch mode: an agent's j-th extra ticket scores × 0.4^j. First tickets score 0.5 … 1, so every
# agent's second ticket (≤ 0.4) ranks below everyone's first, and all slot scores stay positive.
ROUND_ROBIN_SLOT_DECAY = 0.4


def has_room(agent: AgentState, channel_type: str) -> bool:
    """Whether the agent can take one more ticket of this channel type (a missing capacity counts as 0)."""
    return agent.load.get(channel_type, 0) < agent.capacity.get(channel_type, 0)


def is_available(agent: AgentState) -> bool:
    """Online, on shift and not on leave: the hard availability filter of every strategy."""
    return agent.online and agent.on_shift and not agent.on_leave


def ticket_impact(ticket: TicketSpec) -> float:
    """Business impact of the ticket, 0..1 (priority, SLA time left, affected users): see `factors.impact_of`."""
    return f.impact_of(
        priority=ticket.priority, sla_minutes_left=ticket.sla_minutes_left, affected_users=ticket.affected_users
    )


def queue_key(ticket: TicketSpec) -> tuple[int, float, float, int]:
    """Sort key of the waiting queue: priority (urgent first), then SLA minutes left (none = last), then age."""
    sla = ticket.sla_minutes_left if ticket.sla_minutes_left is not None else float("inf")
    return (f.PRIORITY_RANK.get(ticket.priority, f.PRIORITY_RANK["normal"]), sla, ticket.waiting_since, ticket.id)


def relaxed_steps(policy: PolicySpec, relax_level: int) -> tuple[str, ...]:
    """The ladder steps in force at this level (a level past the end of the ladder relaxes everything)."""
    return tuple(policy.relax_steps[: max(0, relax_level)])


@dataclass
class Evaluation:
    """The eligible agents of one ticket with their factor and score arrays (aligned), best first in `order`."""

    ticket: TicketSpec
    policy: PolicySpec
    relax_level: int
    relaxed: tuple[str, ...]
    impact: float
    agents: list[AgentState]
    indices: npt.NDArray[np.intp]  # row of each eligible agent in the agent table
    load: FloatArray
    capacity: FloatArray
    factors: dict[str, FloatArray]
    scores: FloatArray
    # Batch mode scores the agent's j-th extra ticket as score × slot_decay^j − j × slope.
    slope: FloatArray  # score lost per extra ticket given to the agent (its load factor falls)
    order: npt.NDArray[np.intp]
    distance_km: list[float | None]
    slot_decay: float = 1.0
    excluded_counts: dict[str, int] = field(default_factory=dict)
    excluded_sample: list[tuple[AgentState, str]] = field(default_factory=list)


def _exclusion(agent: AgentState, ticket: TicketSpec, rules: _Rules) -> str:
    """The first hard filter the agent fails, or "" when it is eligible."""
    if not agent.online:
        return "offline"
    if not agent.on_shift:
        return "off_shift"
    if agent.on_leave:
        return "on_leave"
    if agent.load.get(rules.channel, 0) >= agent.capacity.get(rules.channel, 0):
        return "no_room"
    return _unmet_requirement(agent, rules) if rules.any else ""


def _unmet_requirement(agent: AgentState, rules: _Rules) -> str:
    """The first requirement (team, skills, language, seniority pool, distance) the agent fails, or ""."""
    if rules.team is not None and rules.team not in agent.team_ids:
        return "team"
    if rules.skills:
        levels = agent.skills
        for skill, minimum in rules.skills:
            level = levels.get(skill, 0)
            if level <= 0:
                return "skill_missing"
            if rules.skill_levels and level < minimum:
                return "skill_level"
    if rules.language and not f.speaks(agent.languages, rules.language):
        return "language"
    if rules.seniority and agent.seniority < rules.seniority:
        return "seniority"
    if (
        rules.max_distance_km is not None
        and rules.site is not None
        and (agent.location is None or f.haversine_km(agent.location, rules.site) > rules.max_distance_km)
    ):
        return "distance"
    return ""


@dataclass(frozen=True)
class _Rules:
    channel: str
    team: int | None
    skills: tuple[tuple[str, int], ...]  # empty when skills are relaxed
    skill_levels: bool
    language: str
    seniority: int | None
    max_distance_km: float | None
    site: tuple[float, float] | None

    @property
    def any(self) -> bool:
        """Whether any requirement beyond availability and room is in force."""
        return bool(
            self.team is not None
            or self.skills
            or self.language
            or self.seniority
            or (self.max_distance_km is not None and self.site is not None)
        )


def _rules(ticket: TicketSpec, policy: PolicySpec, relaxed: tuple[str, ...]) -> _Rules:
    return _Rules(
        channel=ticket.channel_type,
        team=None if "team" in relaxed else ticket.team_id,
        skills=() if "skills" in relaxed else tuple(ticket.required_skills.items()),
        skill_levels="skill_level" not in relaxed,
        language=ticket.language if policy.require_language and "language" not in relaxed else "",
        seniority=None if "seniority_pool" in relaxed else policy.seniority_by_tier.get(ticket.tier),
        max_distance_km=policy.max_distance_km if ticket.onsite and "distance" not in relaxed else None,
        site=ticket.location if ticket.onsite else None,
    )


def evaluate(
    ticket: TicketSpec,
    agents: Sequence[AgentState] | AgentTable,
    policy: PolicySpec,
    *,
    relax_level: int = 0,
    now: float | None = None,
) -> Evaluation:
    """Filter the agents for this ticket and score the eligible ones under the policy's strategy.

    With an `AgentTable` the filters run as numpy masks (fast when many tickets share the agents); with a plain
    sequence, as one scalar pass. Either way each excluded agent keeps the first filter it failed, in the order of
    `EXCLUSION_REASONS` (the same answer as `exclusion_reason`).
    """
    relaxed = relaxed_steps(policy, relax_level)
    rules = _rules(ticket, policy, relaxed)
    if not isinstance(agents, AgentTable):
        return _evaluate_sequence(ticket, agents, policy, rules, relax_level=relax_level, now=now)
    table = agents
    reason = np.zeros(table.size, dtype=np.int8)

    def exclude(name: str, failing: npt.NDArray[np.bool_]) -> None:
        reason[(reason == 0) & failing] = _REASON_CODE[name]

    exclude("offline", ~table.online)
    exclude("off_shift", ~table.on_shift)
    exclude("on_leave", table.on_leave)
    load, capacity = table.channel(rules.channel)
    exclude("no_room", load >= capacity)
    if rules.team is not None:
        exclude("team", ~table.in_team(rules.team))
    for skill, minimum in rules.skills:
        level = table.skill(skill)
        exclude("skill_missing", level <= 0)
        if rules.skill_levels:
            exclude("skill_level", level < minimum)
    if rules.language:
        exclude("language", ~table.speaks(rules.language))
    if rules.seniority:
        exclude("seniority", table.seniority < rules.seniority)
    distance = None
    if ticket.onsite and ticket.location is not None:
        distance = haversine_many(table.locations(), ticket.location)
        if rules.max_distance_km is not None:
            exclude("distance", ~(distance <= rules.max_distance_km))  # an unknown location (NaN) is too far

    eligible = np.flatnonzero(reason == 0)
    tally = np.bincount(reason, minlength=len(EXCLUSION_REASONS) + 1)
    counts = {name: int(tally[code]) for name, code in _REASON_CODE.items() if tally[code]}
    # The closest misses (failing a late filter) say most about why nobody fits: list them first.
    sample = [
        (table.agents[int(np.argmax(reason == _REASON_CODE[name]))], name)
        for name in reversed(EXCLUSION_REASONS)
        if name in counts
    ]
    ev = _score(ticket, policy, table, eligible, distance, impact=ticket_impact(ticket), now=now)
    ev.relax_level = min(max(0, relax_level), len(policy.relax_steps))
    ev.relaxed = relaxed
    ev.excluded_counts = counts
    ev.excluded_sample = sample[:EXCLUDED_SAMPLE]
    return ev


def _evaluate_sequence(
    ticket: TicketSpec,
    agents: Sequence[AgentState],
    policy: PolicySpec,
    rules: _Rules,
    *,
    relax_level: int,
    now: float | None,
) -> Evaluation:
    """`evaluate` for a plain list: one pass of the scalar filters, then a table of the eligible agents only.

    For a single decision this beats building the whole table (each agent is read once, most are dropped early).
    """
    eligible: list[AgentState] = []
    positions: list[int] = []
    rows: list[tuple[int, int, int, int, float, int]] = []
    counts: dict[str, int] = {}
    first_by_reason: dict[str, AgentState] = {}
    channel = rules.channel
    check_requirements = rules.any
    # The hot loop: `_exclusion` inlined, gathering the numbers scoring needs on the way.
    for position, agent in enumerate(agents):
        if not agent.online:
            reason = "offline"
        elif not agent.on_shift:
            reason = "off_shift"
        elif agent.on_leave:
            reason = "on_leave"
        else:
            load = agent.load.get(channel, 0)
            capacity = agent.capacity.get(channel, 0)
            if load >= capacity:
                reason = "no_room"
            else:
                reason = _unmet_requirement(agent, rules) if check_requirements else ""
                if not reason:
                    eligible.append(agent)
                    positions.append(position)
                    rows.append(
                        (load, capacity, agent.seniority, agent.recent_assignments, agent.last_assigned_at, agent.id)
                    )
                    continue
        counts[reason] = counts.get(reason, 0) + 1
        first_by_reason.setdefault(reason, agent)
    sample = [(first_by_reason[r], r) for r in reversed(EXCLUSION_REASONS) if r in first_by_reason]
    table = AgentTable.of_eligible(eligible, rows, channel)
    everyone = np.arange(len(eligible), dtype=np.intp)
    distance = None
    if ticket.onsite and ticket.location is not None:
        distance = haversine_many(table.locations(), ticket.location)
    ev = _score(ticket, policy, table, everyone, distance, impact=ticket_impact(ticket), now=now)
    ev.indices = np.array(positions, dtype=np.intp)
    ev.relax_level = min(max(0, relax_level), len(policy.relax_steps))
    ev.relaxed = relaxed_steps(policy, relax_level)
    ev.excluded_counts = counts
    ev.excluded_sample = sample[:EXCLUDED_SAMPLE]
    return ev


def _score(
    ticket: TicketSpec,
    policy: PolicySpec,
    table: AgentTable,
    eligible: npt.NDArray[np.intp],
    distance_all: FloatArray | None,
    *,
    impact: float,
    now: float | None,
) -> Evaluation:
    n = len(eligible)
    agents = [table.agents[i] for i in eligible.tolist()]
    load_all, capacity_all = table.channel(ticket.channel_type)
    load, capacity = load_all[eligible], capacity_all[eligible]
    seniority = np.clip(table.seniority[eligible], 1, 4)
    recent, last = table.recent[eligible], table.last_assigned[eligible]
    ids = table.ids[eligible]

    required = list(ticket.required_skills.items())
    if required and n:
        names = [name for name, _ in required]
        minimum = np.clip(np.array([m for _, m in required], dtype=np.float64), 1, 5)
        levels = np.stack([table.skill(s)[eligible] for s in names], axis=1)
        coverage = np.minimum(levels, minimum) / minimum
        headroom = np.maximum(5.0 - minimum, 1.0)
        surplus = np.where(levels > minimum, np.minimum((levels - minimum) / headroom, 1.0), 0.0)
        surplus = np.where(minimum >= 5, 0.0, surplus)
        # High impact prefers the most skilled, routine work the closest fit (see factors.skill_match).
        level_part = np.where(levels >= minimum, impact * surplus + (1.0 - impact) * (1.0 - surplus), 0.0)
        skill = ((1 - f.SURPLUS_BONUS) * coverage + f.SURPLUS_BONUS * level_part).mean(axis=1)
        fit = np.maximum(0.0, 1.0 - np.abs(levels - minimum).mean(axis=1) / 4.0)
    else:
        skill = np.ones(n)
        fit = np.ones(n)

    language = table.speaks(ticket.language)[eligible].astype(np.float64)
    if ticket.language and n:
        # Routine tickets spare the multilingual agents (see factors.language_fit).
        extra = np.minimum(table.extra_languages(ticket.language)[eligible], 2.0)
        language = language * (1.0 - f.LANGUAGE_SPARE * extra * (1.0 - impact))
    load_factor = 1.0 - load / np.maximum(capacity, 1.0)
    tier_minimum = policy.seniority_by_tier.get(ticket.tier)
    if tier_minimum:
        value = np.minimum(seniority, tier_minimum) / tier_minimum
    else:
        value = 1.0 - f.STANDARD_SENIORITY_SPREAD * (seniority - 1) / 3 * (1.0 - impact)
    # Impact makes high-stakes tickets lean towards the strongest agents: skill plus seniority.
    strength = 0.5 * skill + 0.5 * seniority / 4
    impact_factor = impact * strength
    distance: list[float | None] = [None] * n
    if ticket.onsite and distance_all is not None:
        km = distance_all[eligible]
        known = ~np.isnan(km)
        geo = np.where(known, 1.0 / (1.0 + np.where(known, km, 0.0) / f.HALF_SCORE_DISTANCE_KM), 0.0)
        distance = [None if math.isnan(d) else d for d in km.tolist()]
    else:
        geo = np.ones(n)
    continuity = np.zeros(n)
    for rank, agent_id in reversed(list(enumerate(ticket.previous_agent_ids))):
        continuity[ids == agent_id] = 0.5**rank
    fairness = 1.0 / (1.0 + np.maximum(recent, 0.0))

    factor_values: dict[str, FloatArray] = {
        "skill": skill,
        "language": language,
        "load": load_factor,
        "value": value,
        "impact": impact_factor,
        "geography": geo,
        "continuity": continuity,
        "fairness": fairness,
    }
    if not ticket.onsite:
        del factor_values["geography"]

    strategy = policy.strategy
    decay = 1.0
    if strategy == "weighted":
        weights = policy.weights.as_dict()
        weights["geography"] = weights["geography"] * ONSITE_GEOGRAPHY_BOOST if ticket.onsite else 0.0
        total = sum(weights.values())
        scores = np.zeros(n)
        if total > 0:
            for name in FACTORS:
                if weights[name]:
                    scores += weights[name] * factor_values[name]
            scores /= total
        slope = weights["load"] / (total or 1.0) / np.maximum(capacity, 1.0)
    elif strategy == "least_loaded":
        scores = load_factor.copy()
        slope = 1.0 / np.maximum(capacity, 1.0)
    elif strategy == "skills_best_fit":
        factor_values["fit"] = fit
        scores = fit + BEST_FIT_LOAD_TIEBREAK * load_factor
        slope = BEST_FIT_LOAD_TIEBREAK / np.maximum(capacity, 1.0)
    elif strategy == "round_robin":
        reference = now if now is not None else max([ticket.waiting_since, *last.tolist()])
        idle = np.maximum(reference - last, 0.0)
        longest = float(idle.max()) if n else 0.0
        # 0.5 … 1: positive, so batch mode can decay it per slot (see ROUND_ROBIN_SLOT_DECAY).
        scores = 0.5 + 0.5 * (idle / longest if longest > 0 else np.ones(n))
        factor_values["idle_minutes"] = idle / 60.0
        slope = np.zeros(n)
        decay = ROUND_ROBIN_SLOT_DECAY
    else:
        raise ValueError(f"unknown routing strategy {strategy!r}")

    # Best first; equal scores go to fewer recent assignments, then the longest idle, then the lowest id.
    order = np.lexsort((ids, last, recent, -scores)) if n else np.zeros(0, dtype=np.intp)
    return Evaluation(
        ticket=ticket,
        policy=policy,
        relax_level=0,
        relaxed=(),
        impact=impact,
        agents=agents,
        indices=eligible,
        load=load,
        capacity=capacity,
        factors=factor_values,
        scores=scores,
        slope=np.asarray(slope, dtype=np.float64),
        slot_decay=decay,
        order=order,
        distance_km=distance,
    )


def decide(
    ticket: TicketSpec,
    agents: Sequence[AgentState] | AgentTable,
    policy: PolicySpec,
    *,
    relax_level: int = 0,
    now: float | None = None,
) -> Decision:
    """Choose the agent for one ticket (or nobody: the ticket waits) and explain why.

    Every strategy applies the same hard filters: available (online, on shift, not on leave), room for the
    ticket's channel type, and the requirements of the ladder steps not yet relaxed (`relax_level` steps are).
    """
    ev = evaluate(ticket, agents, policy, relax_level=relax_level, now=now)
    return decision_from(ev)


def decision_from(ev: Evaluation, *, winner: int | None = None, score: float | None = None, mode: str = "") -> Decision:
    """Build the `Decision` of an evaluation: the best eligible agent, or `winner` (an index) chosen elsewhere."""
    order = ev.order.tolist()
    if winner is None and order:
        winner = order[0]
    top = order[:TOP_CANDIDATES]
    if winner is not None and winner not in top:
        top = [winner, *top[: TOP_CANDIDATES - 1]]
    names = list(ev.factors)
    rows = np.round(np.stack([ev.factors[name][top] for name in names], axis=1), 4).tolist() if top else []
    scores = ev.scores[top].tolist()
    candidates = [
        Candidate(
            ev.agents[i].id,
            score if (i == winner and score is not None) else s,
            dict(zip(names, row, strict=True)),
            True,
        )
        for i, s, row in zip(top, scores, rows, strict=True)
    ]
    candidates += [Candidate(agent.id, 0.0, {}, False, reason) for agent, reason in ev.excluded_sample]
    reason, reason_data = explain(ev, winner=winner, top=top, mode=mode, score=score)
    return Decision(
        ticket_id=ev.ticket.id,
        agent_id=ev.agents[winner].id if winner is not None else None,
        strategy=ev.policy.strategy,
        relax_level=ev.relax_level,
        relaxed=ev.relaxed,
        candidates=tuple(candidates),
        reason=reason,
        reason_data=reason_data,
    )


def eligible_ids(
    ticket: TicketSpec, agents: Sequence[AgentState], policy: PolicySpec, *, relax_level: int = 0
) -> set[int]:
    """Ids of the agents that pass the hard filters at this relax level (no scoring)."""
    rules = _rules(ticket, policy, relaxed_steps(policy, relax_level))
    return {agent.id for agent in agents if not _exclusion(agent, ticket, rules)}


def exclusion_reason(agent: AgentState, ticket: TicketSpec, policy: PolicySpec, *, relax_level: int = 0) -> str:
    """Why this agent cannot take this ticket at this relax level ("" when it can)."""
    return _exclusion(agent, ticket, _rules(ticket, policy, relaxed_steps(policy, relax_level)))
