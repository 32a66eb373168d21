"""'Worked in N of M cases': tallies, recency weighting, Wilson bounds and special cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain.evidence import (
    Observation,
    SpecialCase,
    special_cases,
    tally,
    wilson_lower_bound,
)

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
ROUTER = frozenset({"product:router-x"})
OLD_FIRMWARE = "firmware<2.3"


def seen(solution, succeeded, *context, days_ago=10.0):
    return Observation(solution, frozenset(context), succeeded, NOW - dt.timedelta(days=days_ago))


def reset_history():
    """reset: 14 of 17 on current firmware, 0 of 4 on old firmware; replace: 3 of 4."""
    history = [seen("reset", i < 14, "product:router-x", "firmware>=2.3") for i in range(17)]
    history += [seen("reset", False, "product:router-x", OLD_FIRMWARE) for _ in range(4)]
    history += [seen("replace", i < 3, "product:router-x") for i in range(4)]
    return history


# --- tally ----------------------------------------------------------------------------------------------------


def test_fourteen_of_seventeen():
    history = [seen("reset", i < 14, "product:router-x") for i in range(17)]
    (result,) = tally(history, context=ROUTER, now=NOW)
    assert (result.solution, result.n, result.m) == ("reset", 14, 17)
    assert result.rate == pytest.approx(14 / 17)
    assert result.weighted_rate == pytest.approx(14 / 17)  # all the same age
    assert result.lower_bound == pytest.approx(0.5897054, abs=1e-6)  # Wilson, z = 1.96, computed by hand


def test_wilson_examples():
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(0, 4) == 0.0
    assert wilson_lower_bound(1, 1) == pytest.approx(0.2065493, abs=1e-6)
    assert wilson_lower_bound(14, 17) > wilson_lower_bound(1, 1)  # many tries beat one lucky one


def test_ranked_by_lower_bound_then_n():
    history = [seen("lucky", True)]  # 1 of 1: bound 0.21
    history += [seen("steady", i < 14) for i in range(17)]  # 14 of 17: bound 0.59
    history += [seen("a", False), seen("b", False), seen("b", False)]  # bound 0 for both, N 0
    history += [seen("c", i < 1) for i in range(40)]  # 1 of 40: bound 0.004
    assert [t.solution for t in tally(history, context=frozenset(), now=NOW)] == ["steady", "lucky", "c", "a", "b"]


def test_context_filtering():
    history = [
        seen("reset", True, "product:router-x", "firmware>=2.3"),
        seen("reset", False, "product:router-x"),
        seen("reset", True, "product:modem-y"),  # lacks the router: excluded
        seen("replace", True),  # no context at all: excluded
    ]
    (result,) = tally(history, context=ROUTER, now=NOW)
    assert (result.n, result.m) == (1, 2)
    narrower = tally(history, context=ROUTER | {"firmware>=2.3"}, now=NOW)
    assert [(t.solution, t.n, t.m) for t in narrower] == [("reset", 1, 1)]
    assert len(tally(history, context=frozenset(), now=NOW)) == 2


def test_observations_after_now_are_ignored():
    history = [seen("reset", True), seen("reset", False, days_ago=-1)]
    (result,) = tally(history, context=frozenset(), now=NOW)
    assert (result.n, result.m) == (1, 1)


def test_recency_weighting():
    newer_success = [seen("x", True, days_ago=1), seen("x", False, days_ago=400)]
    older_success = [seen("x", True, days_ago=400), seen("x", False, days_ago=1)]
    (newer,) = tally(newer_success, context=frozenset(), now=NOW)
    (older,) = tally(older_success, context=frozenset(), now=NOW)
    assert (newer.n, newer.m) == (older.n, older.m) == (1, 2)
    assert newer.weighted_rate > 0.5 > older.weighted_rate
    # one half-life apart: weights 1 and 0.5
    (half,) = tally([seen("x", True, days_ago=0), seen("x", False, days_ago=180)], context=frozenset(), now=NOW)
    assert half.weighted_rate == pytest.approx(1 / 1.5)


def test_very_old_evidence_does_not_underflow():
    # 0.5 ** 300_000 is 0.0 in floating point; relative to the newest observation the weights are 1 and 0.5
    history = [seen("x", True, days_ago=300_000), seen("x", False, days_ago=300_001)]
    (result,) = tally(history, context=frozenset(), now=NOW, half_life_days=1)
    assert result.weighted_rate == pytest.approx(1 / 1.5)


def test_rejects_bad_half_life():
    with pytest.raises(ValueError):
        tally([], context=frozenset(), now=NOW, half_life_days=0)


ITEMS = ["a", "b", "c", "d"]
observations = st.lists(
    st.builds(
        Observation,
        solution=st.sampled_from(["reset", "replace", "reflash"]),
        context=st.frozensets(st.sampled_from(ITEMS), max_size=4),
        succeeded=st.booleans(),
        at=st.floats(min_value=0, max_value=2000).map(lambda days: NOW - dt.timedelta(days=days)),
    ),
    max_size=40,
)
contexts = st.frozensets(st.sampled_from(ITEMS), max_size=2)


@given(observations, contexts)
def test_tally_properties(history, context):
    result = tally(history, context=context, now=NOW)
    matching = [o for o in history if context <= o.context]
    assert sum(t.m for t in result) == len(matching)
    assert {t.solution for t in result} == {o.solution for o in matching}
    for t in result:
        assert 0 <= t.n <= t.m
        assert t.n == sum(1 for o in matching if o.solution == t.solution and o.succeeded)
        assert 0.0 <= t.lower_bound <= t.rate <= 1.0
        assert 0.0 <= t.weighted_rate <= 1.0
        assert (t.weighted_rate == 0.0) == (t.n == 0)
    keys = [(-t.lower_bound, -t.n) for t in result]
    assert keys == sorted(keys)


@given(observations, contexts, st.sampled_from(ITEMS))
def test_adding_a_context_item_never_adds_evidence(history, context, item):
    wider = {t.solution: t for t in tally(history, context=context, now=NOW)}
    for t in tally(history, context=context | {item}, now=NOW):
        assert t.m <= wider[t.solution].m
        assert t.n <= wider[t.solution].n


@given(st.integers(0, 200), st.integers(1, 200))
def test_wilson_bound_is_below_the_rate(n, m):
    n = min(n, m)
    assert 0.0 <= wilson_lower_bound(n, m) <= n / m


# --- special cases --------------------------------------------------------------------------------------------


def test_finds_the_planted_special_case():
    found = special_cases(reset_history(), context=ROUTER, now=NOW)
    assert found == [SpecialCase("reset", OLD_FIRMWARE, 0, 4, 14, 21)]
    assert found[0].difference == pytest.approx(-14 / 21)


def test_finds_a_better_than_usual_case_too():
    history = [seen("reflash", False, "model:a") for _ in range(9)] + [seen("reflash", True, "model:b")] * 3
    (case,) = special_cases(history, context=frozenset(), now=NOW)
    assert (case.item, case.n, case.m, case.overall_n, case.overall_m) == ("model:b", 3, 3, 3, 12)
    assert case.difference == pytest.approx(0.75)


def test_ignores_a_special_case_below_min_support():
    history = reset_history()[:17] + [seen("reset", False, "product:router-x", OLD_FIRMWARE)] * 2
    assert special_cases(history, context=ROUTER, now=NOW) == []
    assert [c.m for c in special_cases(history, context=ROUTER, now=NOW, min_support=2)] == [2]


def test_ignores_small_differences_and_asked_items():
    # 7 of 10 overall, 4 of 7 under "b": 0.13 lower, not marked
    history = [seen("x", i < 4, "a", "b") for i in range(7)] + [seen("x", True, "a") for _ in range(3)]
    assert special_cases(history, context=frozenset({"a"}), now=NOW) == []
    # exactly 0.3 counts (0.7 - 0.4 is 0.29999999999999993 in floating point)
    history = [seen("y", i < 2, "b") for i in range(5)] + [seen("y", True) for _ in range(5)]
    assert [c.item for c in special_cases(history, context=frozenset(), now=NOW)] == ["b"]


@given(observations, contexts, st.integers(1, 6))
def test_special_case_properties(history, context, min_support):
    overall = {t.solution: t for t in tally(history, context=context, now=NOW)}
    for case in special_cases(history, context=context, now=NOW, min_support=min_support):
        assert case.item not in context
        assert min_support <= case.m <= case.overall_m
        assert (case.overall_n, case.overall_m) == (overall[case.solution].n, overall[case.solution].m)
        assert abs(case.n / case.m - case.overall_n / case.overall_m) >= 0.3 - 1e-9
        (with_item,) = [
            t for t in tally(history, context=context | {case.item}, now=NOW) if t.solution == case.solution
        ]
        assert (case.n, case.m) == (with_item.n, with_item.m)
