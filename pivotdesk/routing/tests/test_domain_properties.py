"""Properties of the routing engine over random agents and tickets (hypothesis), checked against brute force."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.routing.domain import (
    FACTORS,
    RELAXATION_LADDER,
    STRATEGIES,
    AgentState,
    AgentTable,
    PolicySpec,
    TicketSpec,
    assignment_value,
    batch_assign,
    decide,
    eligible_ids,
    exclusion_reason,
    greedy_assign,
    has_room,
    is_available,
)
from pivotdesk.routing.domain import factors as f
from pivotdesk.routing.domain.engine import ONSITE_GEOGRAPHY_BOOST, evaluate

SKILLS = ["billing", "network", "hardware"]
CHANNELS = ["email", "chat"]
LANGUAGES = ["zh", "en", "ja"]
points = st.tuples(st.floats(30.0, 32.0), st.floats(120.0, 122.0))


@st.composite
def agents(draw, max_size: int = 12) -> list[AgentState]:
    count = draw(st.integers(0, max_size))
    out = []
    for agent_id in range(1, count + 1):
        capacity = {ch: draw(st.integers(0, 4)) for ch in CHANNELS}
        out.append(
            AgentState(
                agent_id,
                online=draw(st.booleans()) or draw(st.booleans()),
                on_shift=draw(st.integers(0, 5)) > 0,
                on_leave=draw(st.integers(0, 7)) == 0,
                skills=draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), max_size=2))),
                load={ch: draw(st.integers(0, capacity[ch] + 1)) for ch in CHANNELS},
                capacity=capacity,
                seniority=draw(st.integers(1, 4)),
                team_ids=frozenset(draw(st.sets(st.integers(1, 3), max_size=2))),
                location=draw(st.none() | points),
                recent_assignments=draw(st.integers(0, 6)),
                last_assigned_at=draw(st.floats(0, 10_000)),
            )
        )
    return out


@st.composite
def tickets(draw, ticket_id: int = 1) -> TicketSpec:
    onsite = draw(st.booleans())
    return TicketSpec(
        ticket_id,
        channel_type=draw(st.sampled_from(CHANNELS)),
        priority=draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        tier=draw(st.sampled_from(["standard", "standard", "vip", "strategic"])),
        language=draw(st.sampled_from(["", *LANGUAGES])),
        required_skills=draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=2)),
        team_id=draw(st.none() | st.integers(1, 3)),
        location=draw(points) if onsite else None,
        onsite=onsite,
        sla_minutes_left=draw(st.none() | st.floats(-60, 600)),
        affected_users=draw(st.integers(1, 2000)),
        previous_agent_ids=tuple(draw(st.lists(st.integers(1, 12), max_size=3, unique=True))),
        waiting_since=draw(st.floats(0, 10_000)),
    )


@st.composite
def ticket_lists(draw, max_size: int = 10) -> list[TicketSpec]:
    return [draw(tickets(ticket_id=i)) for i in range(1, draw(st.integers(0, max_size)) + 1)]


policies = st.builds(
    PolicySpec,
    strategy=st.sampled_from(STRATEGIES),
    require_language=st.booleans(),
    max_distance_km=st.none() | st.floats(1, 200),
)
levels = st.integers(0, len(RELAXATION_LADDER))


@settings(max_examples=100, deadline=None)
@given(agents(), tickets(), policies, levels)
def test_the_winner_is_available_has_room_and_has_the_best_score(pool, ticket, policy, level):
    decision = decide(ticket, pool, policy, relax_level=level)
    allowed = eligible_ids(ticket, pool, policy, relax_level=level)
    if decision.agent_id is None:
        assert not allowed
        return
    winner = next(a for a in pool if a.id == decision.agent_id)
    assert is_available(winner)
    assert has_room(winner, ticket.channel_type)
    assert winner.id in allowed
    ev = evaluate(ticket, pool, policy, relax_level=level)
    assert {a.id for a in ev.agents} == allowed
    assert decision.score == max(ev.scores.tolist())
    eligible = [c for c in decision.candidates if c.eligible]
    assert [c.score for c in eligible] == sorted((c.score for c in eligible), reverse=True)
    assert all(not c.eligible and c.excluded_because for c in decision.candidates[len(eligible) :])


@settings(max_examples=100, deadline=None)
@given(agents(), tickets(), policies, levels)
def test_the_vectorised_filters_agree_with_the_scalar_reference(pool, ticket, policy, level):
    ev = evaluate(ticket, pool, policy, relax_level=level)
    reasons = [exclusion_reason(a, ticket, policy, relax_level=level) for a in pool]
    assert [a.id for a in ev.agents] == [a.id for a, r in zip(pool, reasons, strict=True) if not r]
    assert ev.excluded_counts == dict(Counter(r for r in reasons if r))
    for a, reason in ev.excluded_sample:
        assert exclusion_reason(a, ticket, policy, relax_level=level) == reason
    # the numpy-column path (AgentTable) decides exactly like the plain-list path
    from_list = decide(ticket, pool, policy, relax_level=level, now=10_000)
    from_table = decide(ticket, AgentTable(pool), policy, relax_level=level, now=10_000)
    assert from_table.agent_id == from_list.agent_id
    assert [(c.agent_id, c.excluded_because) for c in from_table.candidates] == [
        (c.agent_id, c.excluded_because) for c in from_list.candidates
    ]
    assert [c.score for c in from_table.candidates] == pytest.approx([c.score for c in from_list.candidates])
    assert from_table.reason_data["excluded"] == from_list.reason_data["excluded"]


def _same_decision(a, b) -> None:
    assert a.agent_id == b.agent_id
    assert [(c.agent_id, c.excluded_because) for c in a.candidates] == [
        (c.agent_id, c.excluded_because) for c in b.candidates
    ]
    assert [c.score for c in a.candidates] == pytest.approx([c.score for c in b.candidates])
    assert a.reason_data["excluded"] == b.reason_data["excluded"]


@settings(max_examples=80, deadline=None)
@given(agents(), agents(), policies, levels, st.data())
def test_a_table_kept_current_row_by_row_decides_like_a_fresh_one(pool, changed, policy, level, data):
    """The routing app keeps one table and replaces rows as loads and presence change (`replace_row`): after any
    such changes, including of columns already built and cached, it must decide exactly like a new table."""
    warm_ticket, ticket = data.draw(tickets()), data.draw(tickets(ticket_id=2))
    kept = AgentTable(pool)
    decide(warm_ticket, kept, policy, relax_level=level, now=10_000)  # builds some ticket-dependent columns
    current = list(pool)
    for new in changed[: len(pool)]:
        row = data.draw(st.integers(0, len(pool) - 1))
        replacement = replace(new, id=current[row].id)
        kept.replace_row(row, replacement)
        current[row] = replacement
    _same_decision(
        decide(ticket, kept, policy, relax_level=level, now=10_000),
        decide(ticket, AgentTable(current), policy, relax_level=level, now=10_000),
    )


@settings(max_examples=80, deadline=None)
@given(agents(), policies, levels, st.data())
def test_a_subset_taken_from_a_table_decides_like_a_table_of_that_subset(pool, policy, level, data):
    warm_ticket, ticket = data.draw(tickets()), data.draw(tickets(ticket_id=2))
    table = AgentTable(pool)
    decide(warm_ticket, table, policy, relax_level=level, now=10_000)  # some columns cached on the parent
    rows = data.draw(st.lists(st.integers(0, len(pool) - 1), unique=True)) if pool else []
    subset = table.take(np.array(rows, dtype=np.intp))
    assert [a.id for a in subset.agents] == [pool[i].id for i in rows]
    _same_decision(
        decide(ticket, subset, policy, relax_level=level, now=10_000),
        decide(ticket, [pool[i] for i in rows], policy, relax_level=level, now=10_000),
    )
    with pytest.raises(ValueError, match="subset"):
        subset.replace_row(0, AgentState(1))


@settings(max_examples=100, deadline=None)
@given(agents(), tickets(), policies)
def test_relaxing_never_shrinks_the_eligible_set(pool, ticket, policy):
    previous: set[int] = set()
    for level in range(len(RELAXATION_LADDER) + 1):
        current = eligible_ids(ticket, pool, policy, relax_level=level)
        assert previous <= current
        previous = current
    assert previous == {a.id for a in pool if is_available(a) and has_room(a, ticket.channel_type)}


@settings(max_examples=80, deadline=None)
@given(agents(), tickets(), st.booleans())
def test_factors_are_normalised_and_match_the_scalar_reference(pool, ticket, require_language):
    policy = PolicySpec(require_language=require_language)
    ev = evaluate(ticket, pool, policy, relax_level=len(RELAXATION_LADDER))
    impact = f.impact_of(
        priority=ticket.priority, sla_minutes_left=ticket.sla_minutes_left, affected_users=ticket.affected_users
    )
    weights = policy.weights.as_dict()
    weights["geography"] = weights["geography"] * ONSITE_GEOGRAPHY_BOOST if ticket.onsite else 0.0
    for i, a in enumerate(ev.agents):
        skill = f.skill_match(a.skills, ticket.required_skills, impact)
        expected = {
            "skill": skill,
            "language": f.language_fit(a.languages, ticket.language, impact),
            "load": 1 - a.load.get(ticket.channel_type, 0) / a.capacity[ticket.channel_type],
            "value": f.seniority_value(a.seniority, policy.seniority_by_tier.get(ticket.tier), impact),
            "impact": impact * (0.5 * skill + 0.5 * a.seniority / 4),
            "continuity": f.continuity(a.id, ticket.previous_agent_ids),
            "fairness": f.fairness(a.recent_assignments),
        }
        if ticket.onsite:
            distance = None if a.location is None else f.haversine_km(a.location, ticket.location)
            expected["geography"] = f.geography(distance)
        for name, value in expected.items():
            assert ev.factors[name][i] == pytest.approx(value, abs=1e-9), name
            assert 0.0 <= ev.factors[name][i] <= 1.0
        score = sum(weights[name] * expected.get(name, 0.0) for name in FACTORS) / sum(weights.values())
        assert ev.scores[i] == pytest.approx(score, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(agents(), ticket_lists(), policies, levels)
def test_batch_never_exceeds_capacity_and_assigns_each_ticket_once(pool, backlog, policy, level):
    decisions = batch_assign(backlog, pool, policy, relax_level=level)
    assert [d.ticket_id for d in decisions] == [t.id for t in backlog]
    by_agent = {a.id: a for a in pool}
    taken = Counter((d.agent_id, t.channel_type) for t, d in zip(backlog, decisions, strict=True) if d.agent_id)
    for (agent_id, channel), count in taken.items():
        a = by_agent[agent_id]
        assert a.load.get(channel, 0) + count <= a.capacity.get(channel, 0)
    for t, d in zip(backlog, decisions, strict=True):
        allowed = eligible_ids(t, pool, policy, relax_level=level)
        if d.agent_id is not None:
            assert d.agent_id in allowed
        else:
            assert d.reason_data["outcome"] == "waiting"
            # maximal: a waiting ticket has no eligible agent with a slot left after the batch
            for agent_id in allowed:
                a = by_agent[agent_id]
                used = taken[(agent_id, t.channel_type)]
                assert a.load.get(t.channel_type, 0) + used >= a.capacity.get(t.channel_type, 0)


@settings(max_examples=80, deadline=None)
@given(agents(), ticket_lists(), policies, levels)
def test_batch_scores_at_least_as_well_as_greedy(pool, backlog, policy, level):
    batch = batch_assign(backlog, pool, policy, relax_level=level)
    greedy = greedy_assign(backlog, pool, policy, relax_level=level)
    assert assignment_value(backlog, batch) >= assignment_value(backlog, greedy) - 1e-6
