"""The independent rule checker catches each kind of violation, and the change check reports what a request breaks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain.rules import (
    Agent,
    Contract,
    Overtime,
    PickUp,
    Rule,
    Shift,
    ShiftTemplate,
    Swap,
    TakeLeave,
    Workforce,
    check_agent,
    check_change,
    check_roster,
)

DAY = 1440
TEMPLATES = (
    ShiftTemplate("D09", 9 * 60, 540, 60, 180, 300),
    ShiftTemplate("N22", 22 * 60, 540, 60, 180, 300, is_night=True),
    ShiftTemplate("E05", 5 * 60, 240),
    ShiftTemplate("S09", 9 * 60, 240),
)
CONTRACTS = (
    Contract("std", 0, 40 * 60, 11 * 60, 5, 2, 2),
    Contract("short", 0, 20 * 60, 11 * 60, 5, 2, 2),
    Contract("min32", 32 * 60, 40 * 60, 11 * 60, 5, 2, 2),
    Contract("loose", 0, 60 * 60, 11 * 60, 7, 7, 2),
)


def setup(days: int = 7) -> Workforce:
    agents = (
        Agent("a1", "std", frozenset({"billing"})),
        Agent("a2", "std", frozenset({"billing", "tech"}), frozenset({"D09", "S09"})),
        Agent(
            "a3",
            "std",
            frozenset({"billing"}),
            leave=((2 * DAY, 3 * DAY),),
            unavailable=((3 * DAY + 17 * 60, 4 * DAY),),
        ),
        Agent("short", "short", frozenset({"billing"})),
        Agent("min32", "min32", frozenset({"billing"})),
        Agent("loose", "loose", frozenset({"billing"})),
    )
    return Workforce(days, TEMPLATES, CONTRACTS, agents)


def day_shift(agent: str, day: int, skill: str = "billing", lunch_offset: int = 240) -> Shift:
    return Shift(agent, day, "D09", skill, lunch_start=day * DAY + 9 * 60 + lunch_offset)


def night(agent: str, day: int) -> Shift:
    return Shift(agent, day, "N22", "billing", lunch_start=day * DAY + 22 * 60 + 240)


def rules_of(shifts: list[Shift], days: int = 7) -> set[Rule]:
    return {v.rule for v in check_roster(setup(days), shifts)}


def test_a_legal_roster_has_no_violations() -> None:
    shifts = [day_shift("a1", d) for d in range(5)] + [day_shift("a2", d, "tech") for d in (0, 1, 3)]
    shifts += [Shift("a3", 0, "S09", "billing"), day_shift("min32", 0), *(day_shift("min32", d) for d in (1, 2, 3))]
    assert check_roster(setup(), shifts) == []


@pytest.mark.parametrize(
    ("shifts", "rule"),
    [
        ([day_shift("nobody", 0)], Rule.UNKNOWN_AGENT),
        ([Shift("a1", 0, "X99", "billing")], Rule.UNKNOWN_TEMPLATE),
        ([day_shift("a1", 7)], Rule.OUTSIDE_HORIZON),
        ([night("a2", 0)], Rule.TEMPLATE_NOT_ALLOWED),
        ([day_shift("a1", 0), Shift("a1", 0, "S09", "billing")], Rule.TWO_SHIFTS_SAME_DAY),
        ([night("a1", 0), Shift("a1", 1, "E05", "billing")], Rule.OVERLAP),
        ([night("a1", 0), day_shift("a1", 1)], Rule.MIN_REST),
        ([day_shift("short", d) for d in (0, 2, 4)], Rule.WEEKLY_HOURS_MAX),
        ([day_shift("min32", 0)], Rule.WEEKLY_HOURS_MIN),
        ([day_shift("a1", d) for d in range(6)], Rule.CONSECUTIVE_DAYS),
        ([night("a1", d) for d in (0, 2, 4)], Rule.NIGHT_SHIFTS),
        ([day_shift("loose", d) for d in range(6)], Rule.DAYS_OFF),
        ([day_shift("a3", 2)], Rule.ON_LEAVE),
        ([day_shift("a3", 3)], Rule.UNAVAILABLE),
        ([day_shift("a1", 0, "tech")], Rule.SKILL),
        ([day_shift("a1", 0, lunch_offset=60)], Rule.LUNCH_WINDOW),
        ([Shift("a1", 0, "D09", "billing")], Rule.LUNCH_WINDOW),
        ([Shift("a1", 0, "S09", "billing", lunch_start=600)], Rule.LUNCH_WINDOW),
        ([day_shift("a1", 0, lunch_offset=-60)], Rule.LUNCH_OUTSIDE_SHIFT),
    ],
)
def test_each_violation_kind_is_caught(shifts: list[Shift], rule: Rule) -> None:
    assert rule in rules_of(shifts)


def test_the_same_rosters_without_the_fault_pass() -> None:
    assert rules_of([night("a1", 0), day_shift("a1", 2)]) == set()
    assert rules_of([day_shift("short", d) for d in (0, 2)]) == set()
    assert rules_of([day_shift("a1", d) for d in range(5)]) == set()
    assert rules_of([night("a1", d) for d in (0, 2)]) == set()
    assert rules_of([day_shift("loose", d) for d in range(5)]) == set()


def test_partial_week_skips_the_minimum_and_scales_days_off() -> None:
    assert rules_of([day_shift("min32", 0)], days=3) == set()
    assert rules_of([day_shift("loose", d) for d in range(3)], days=3) == set()
    assert Rule.DAYS_OFF in rules_of([day_shift("loose", d) for d in range(6)], days=6)


def test_locked_shift_missing_is_reported() -> None:
    locked = [day_shift("a1", 1)]
    assert {v.rule for v in check_roster(setup(), [day_shift("a1", 0)], locked=locked)} == {Rule.LOCKED_SHIFT}
    assert check_roster(setup(), [day_shift("a1", 1)], locked=locked) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["D09", "N22", "E05"])), max_size=7, unique_by=lambda t: t[0])
)
def test_rest_and_overlap_match_a_pairwise_reading(picks: list[tuple[int, str]]) -> None:
    """Rest is judged between consecutive shifts; any later pair closer than 11 h must have been flagged."""
    by_id = {t.id: t for t in TEMPLATES}
    shifts = [
        Shift(
            "loose",
            d,
            tid,
            "billing",
            lunch_start=d * DAY + by_id[tid].start + 240 if by_id[tid].lunch_length else None,
        )
        for d, tid in picks
    ]
    spans = sorted((d * DAY + by_id[tid].start, d * DAY + by_id[tid].start + by_id[tid].length) for d, tid in picks)
    too_close = any(b[0] - a[1] < 11 * 60 for a, b in itertools.pairwise(spans))
    found = {v.rule for v in check_agent(setup(), "loose", shifts)} & {Rule.MIN_REST, Rule.OVERLAP}
    assert bool(found) == too_close


def test_swap_reports_the_template_the_colleague_may_not_work() -> None:
    roster = [night("a1", 0), day_shift("a2", 1)]
    violations = check_change(setup(), roster, Swap("a1", 0, "a2", 1))
    assert {(v.rule, v.agent) for v in violations} == {(Rule.TEMPLATE_NOT_ALLOWED, "a2")}
    assert check_change(setup(), [day_shift("a1", 0), day_shift("a2", 1)], Swap("a1", 0, "a2", 1)) == []


def test_pick_up_overtime_and_leave_report_their_rules() -> None:
    roster = [night("a1", 0), *(day_shift("short", d) for d in (0, 2)), *(day_shift("min32", d) for d in range(4))]
    pick = check_change(setup(), roster, PickUp("a1", day_shift("open", 1)))
    assert {v.rule for v in pick} == {Rule.MIN_REST}
    overtime = check_change(setup(), roster, Overtime("short", 2, 300))
    assert {v.rule for v in overtime} == {Rule.WEEKLY_HOURS_MAX}
    assert check_change(setup(), roster, Overtime("a1", 0, 60)) == []
    leave = check_change(setup(), roster, TakeLeave("min32", 1 * DAY, 2 * DAY))
    assert {v.rule for v in leave} == {Rule.WEEKLY_HOURS_MIN}
    assert check_change(setup(), roster, TakeLeave("a1", 3 * DAY, 4 * DAY)) == []
