"""The CP-SAT roster: every hard rule of its output holds (by the independent checker), conflicts are named,
locked shifts are kept, re-plans change little, and unmet demand is explained."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain.roster import Reason, RosterResult, RosterStatus, solve
from pivotdesk.workforce.domain.rules import Agent, Contract, Rule, Shift, ShiftTemplate, Workforce, check_roster

DAY = 1440
TEMPLATES = (
    ShiftTemplate("D08", 8 * 60, 540, 60, 180, 300),
    ShiftTemplate("L14", 14 * 60, 540, 60, 180, 300),
    ShiftTemplate("N22", 22 * 60, 540, 60, 180, 300, is_night=True),
    ShiftTemplate("S10", 10 * 60, 240),
)
SOLVED = {RosterStatus.OPTIMAL, RosterStatus.FEASIBLE}


def cover_of(setup: Workforce, shifts: tuple[Shift, ...]) -> dict[tuple[int, str], int]:
    """Recomputed here from the shifts, independently of the solver's coverage expressions."""
    cover: dict[tuple[int, str], int] = defaultdict(int)
    im = setup.interval_minutes
    for s in shifts:
        t = setup.template_by_id[s.template]
        start = s.day * DAY + t.start
        for lo in range(start, start + t.length, im):
            in_lunch = s.lunch_start is not None and s.lunch_start <= lo < s.lunch_start + t.lunch_length
            if lo < setup.days * DAY and not in_lunch:
                cover[(lo // im, s.skill)] += 1
    return cover


def random_instance(seed: int, n_agents: int, days: int) -> tuple[Workforce, dict[tuple[int, str], int]]:
    rng = random.Random(seed)
    contracts = (
        Contract("full", 0, 40 * 60, 11 * 60, 5, 2, 2),
        Contract("part", 0, 20 * 60, 12 * 60, 3, 0, 2),
        Contract("min", 16 * 60, 40 * 60, 11 * 60, 6, 3, 1),
    )
    agents = []
    for i in range(n_agents):
        skills = frozenset(rng.sample(["a", "b"], rng.randint(1, 2)))
        templates = None if rng.random() < 0.5 else frozenset(rng.sample([t.id for t in TEMPLATES], 2))
        leave = ((d * DAY, (d + 1) * DAY),) if rng.random() < 0.3 and (d := rng.randrange(days)) >= 0 else ()
        unavailable = ((d * DAY + 18 * 60, (d + 1) * DAY),) if rng.random() < 0.3 and (d := rng.randrange(days)) else ()
        agents.append(Agent(f"a{i}", rng.choice(contracts).id, skills, templates, leave, unavailable, frozenset({6})))
    setup = Workforce(days, TEMPLATES, contracts, tuple(agents), 30)
    requirement = {}
    for idx in range(days * 48):
        for skill in ("a", "b"):
            if 14 <= idx % 48 < 44 and rng.random() < 0.7:
                requirement[(idx, skill)] = rng.randint(0, 3)
    return setup, requirement


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 8), st.integers(2, 7))
def test_every_hard_rule_holds_on_solver_output(seed: int, n_agents: int, days: int) -> None:
    setup, requirement = random_instance(seed, n_agents, days)
    result = solve(setup, requirement, time_limit_s=2.0, num_workers=2)
    if result.status == RosterStatus.INFEASIBLE:
        assert result.conflicts, "an infeasible roster names the agents and rules that conflict"
        return
    assert result.status in SOLVED
    assert check_roster(setup, result.shifts) == []
    cover = cover_of(setup, result.shifts)
    assert {(c.interval, c.skill): c.scheduled for c in result.coverage if c.scheduled} == {
        k: v for k, v in cover.items() if v
    }
    assert result.under_staffed == sum(max(0, n - cover.get(k, 0)) for k, n in requirement.items())
    assert result.gap is not None
    assert 0 <= result.gap <= 1


def one_agent(agent: Agent, contract: Contract, days: int = 7) -> Workforce:
    return Workforce(days, TEMPLATES, (contract,), (agent,), 30)


def test_min_hours_with_two_available_days_names_both_rules() -> None:
    contract = Contract("c40", 40 * 60, 40 * 60, 11 * 60, 5, 2, 2)
    agent = Agent("x", "c40", frozenset({"a"}), unavailable=((2 * DAY, 7 * DAY),))
    result = solve(one_agent(agent, contract), {(20, "a"): 1}, time_limit_s=5)
    assert result.status == RosterStatus.INFEASIBLE
    assert [(c.agent, set(c.rules)) for c in result.conflicts] == [("x", {Rule.UNAVAILABLE, Rule.WEEKLY_HOURS_MIN})]


@pytest.mark.parametrize(
    ("locked", "rules"),
    [
        ([Shift("x", 1, "D08", "a", lunch_start=DAY + 12 * 60)], {Rule.LOCKED_SHIFT, Rule.ON_LEAVE}),
        ([Shift("x", 3, "N22", "a"), Shift("x", 4, "D08", "a")], {Rule.LOCKED_SHIFT, Rule.MIN_REST}),
    ],
)
def test_locked_shifts_against_the_rules_are_named(locked: list[Shift], rules: set[Rule]) -> None:
    contract = Contract("c", 0, 40 * 60, 11 * 60, 5, 2, 2)
    agent = Agent("x", "c", frozenset({"a"}), leave=((DAY, 2 * DAY),))
    result = solve(one_agent(agent, contract), {}, locked=locked, time_limit_s=5)
    assert result.status == RosterStatus.INFEASIBLE
    assert [(c.agent, set(c.rules)) for c in result.conflicts] == [("x", rules)]


def test_locked_shifts_are_kept_even_where_nobody_is_needed() -> None:
    setup, requirement = random_instance(7, 5, 7)
    agent = next(a for a in setup.agents if a.templates is None or "N22" in a.templates)
    day = next(
        d for d in range(7) if not any(s < (d + 2) * DAY and d * DAY < e for s, e in agent.leave + agent.unavailable)
    )
    skill = sorted(agent.skills)[0]
    locked = [Shift(agent.id, day, "N22", skill, lunch_start=day * DAY + 22 * 60 + 300)]
    result = solve(setup, requirement, locked=locked, time_limit_s=3)
    assert result.status in SOLVED
    assert locked[0] in result.shifts
    assert check_roster(setup, result.shifts, locked=locked) == []


def count_changes(before: tuple[Shift, ...], after: tuple[Shift, ...]) -> int:
    a = {(s.agent, s.day): (s.template, s.skill) for s in before}
    b = {(s.agent, s.day): (s.template, s.skill) for s in after}
    return sum(a.get(k) != b.get(k) for k in set(a) | set(b))


def test_replan_after_a_day_of_leave_changes_few_shifts() -> None:
    setup, requirement = random_instance(3, 8, 7)
    first = solve(setup, requirement, time_limit_s=4)
    assert first.status in SOLVED
    taken = first.shifts[0]
    agents = tuple(
        a
        if a.id != taken.agent
        else Agent(a.id, a.contract, a.skills, a.templates, ((taken.day * DAY, (taken.day + 1) * DAY),))
        for a in setup.agents
    )
    changed = Workforce(setup.days, setup.templates, setup.contracts, agents, 30)
    replanned = solve(changed, requirement, previous=first.shifts, time_limit_s=4)
    assert replanned.status in SOLVED
    assert check_roster(changed, replanned.shifts) == []
    assert not any(s.agent == taken.agent and s.day == taken.day for s in replanned.shifts)
    assert replanned.changes == count_changes(first.shifts, replanned.shifts)
    assert 1 <= replanned.changes <= len(first.shifts) // 4  # a day of leave moves a handful of shifts
    fresh = solve(changed, requirement, time_limit_s=4)
    assert replanned.changes <= count_changes(first.shifts, fresh.shifts)


def explained(result: RosterResult, interval: int, skill: str) -> dict[Reason, int]:
    for u in result.unmet:
        if (u.interval, u.skill) == (interval, skill):
            return dict(u.reasons)
    raise AssertionError(f"no explanation for interval {interval} {skill}")


def test_unmet_demand_names_the_weekly_hours_limit() -> None:
    contracts = (Contract("cap16", 0, 16 * 60, 11 * 60, 5, 0, 2), Contract("free", 0, 40 * 60, 11 * 60, 5, 0, 2))
    agents = (
        Agent("capped", "cap16", frozenset({"billing"}), frozenset({"D08"})),
        Agent("tech", "free", frozenset({"tech"}), frozenset({"D08"})),
    )
    setup = Workforce(7, TEMPLATES, contracts, agents, 30)
    requirement = {(d * 48 + i, "billing"): 1 for d in range(5) for i in (16, 17, 18)}
    result = solve(setup, requirement, time_limit_s=5)
    assert result.status in SOLVED
    assert check_roster(setup, result.shifts) == []
    worked = {s.day for s in result.shifts if s.agent == "capped"}
    assert len(worked) == 2
    missed = next(d for d in range(5) if d not in worked)
    reasons = explained(result, missed * 48 + 16, "billing")
    assert reasons == {Reason.WEEKLY_HOURS_LIMIT: 1, Reason.NO_SKILL: 1}
    assert all(u.need == 1 and u.scheduled == 0 for u in result.unmet)


def test_templates_off_the_interval_grid_are_refused() -> None:
    setup = Workforce(
        7, (ShiftTemplate("odd", 8 * 60 + 15, 480),), (Contract("c"),), (Agent("x", "c", frozenset({"a"})),)
    )
    with pytest.raises(ValueError, match="grid"):
        solve(setup, {}, time_limit_s=1)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 9), st.integers(2, 7))
def test_bound_and_objective_sandwich_the_proven_optimum(seed: int, n_agents: int, days: int) -> None:
    """The reported bound (from the grouped MILP) never exceeds the optimum of the per-agent model, and the reported
    objective is the cost of the returned roster, so it is never below the optimum either."""
    from ortools.sat.python import cp_model

    from pivotdesk.workforce.domain.roster import Weights, _objective, _Roster

    setup, requirement = random_instance(seed, n_agents, days)
    # a twin per agent, with other preferred days off, so groups of alike agents mix preferences
    twins = tuple(replace(a, id=f"{a.id}t", preferred_days_off=frozenset({seed % 7, 5})) for a in setup.agents)
    setup = replace(setup, agents=setup.agents + twins[: n_agents // 2])
    requirement = {k: 2 * v for k, v in requirement.items()}
    model = _Roster(setup, requirement, [], None, Weights()).model
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(model)
    result = solve(setup, requirement, time_limit_s=3.0, num_workers=2, explain=False)
    if status == cp_model.INFEASIBLE:
        assert result.status == RosterStatus.INFEASIBLE
        return
    assert status == cp_model.OPTIMAL, "small instances are solved to optimality by plain CP-SAT"
    assert result.status in SOLVED
    assert result.objective is not None and result.bound is not None and result.gap is not None
    optimum = solver.objective_value
    assert result.bound <= optimum + 1e-6
    assert result.objective >= optimum - 1e-6
    assert result.objective == _objective(setup, requirement, result.shifts, Weights())
    assert result.gap == pytest.approx((result.objective - result.bound) / max(1.0, result.objective))
    assert check_roster(setup, result.shifts) == []


def test_identical_agents_are_split_from_group_counts_exactly() -> None:
    """Twelve interchangeable agents: the grouped model's counts split into legal weeks with no loss."""
    contract = Contract("full", 24 * 60, 40 * 60, 11 * 60, 5, 2, 2)
    agents = tuple(Agent(f"a{i:02d}", "full", frozenset({"a", "b"})) for i in range(12))
    setup = Workforce(7, TEMPLATES, (contract,), agents, 30)
    requirement = {(d * 48 + i, s): 2 + (i % 3 == 0) for d in range(7) for i in range(16, 40) for s in ("a", "b")}
    result = solve(setup, requirement, time_limit_s=10.0, num_workers=2, explain=False)
    assert result.status in SOLVED
    assert check_roster(setup, result.shifts) == []
    assert result.gap is not None and result.gap <= 0.02
