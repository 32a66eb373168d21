"""Reciprocal rank fusion against a brute-force reference, and the retrieval metrics of `pivotdesk kb eval`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain.ranking import (
    Evaluation,
    evaluate,
    percentile,
    recall_at,
    reciprocal_rank,
    reciprocal_rank_fusion,
)

items = st.integers(min_value=0, max_value=12)
ranking = st.lists(items, max_size=10)
rankings = st.lists(ranking, max_size=5)
small_k = st.integers(min_value=0, max_value=100)


def reference_rrf(rankings, *, k=60, weights=None):
    """The definition, computed the slow way: scan every ranking for every item."""
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    kept = [(list(r), w) for r, w in zip(rankings, weights, strict=True) if w != 0]
    universe = []
    for r, _ in kept:
        for item in r:
            if item not in universe:
                universe.append(item)
    rows = []
    for item in universe:
        terms = [w / (k + r.index(item) + 1) for r, w in kept if item in r]
        best = min(r.index(item) + 1 for r, _ in kept if item in r)
        rows.append((item, math.fsum(terms), best, universe.index(item)))
    rows.sort(key=lambda row: (-row[1], row[2], row[3]))
    return [(item, score) for item, score, _, _ in rows]


# --- reciprocal rank fusion -----------------------------------------------------------------------------------


def test_rrf_example():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert [item for item, _ in fused] == ["a", "b", "c", "d"]  # a and b tie; a's best rank 1 came first
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2][1] == pytest.approx(1 / 63)


def test_rrf_tie_break_by_best_rank_then_first_appearance():
    # With k = 0 every item scores 1.0: x as 1/2 + 1/2, y, z and w as 1/1. x's best rank is 2, the others' 1, and
    # among those y appears first, then z, then w.
    fused = reciprocal_rank_fusion([["y", "x"], ["z", "x"], ["w"]], k=0)
    assert [item for item, _ in fused] == ["y", "z", "w", "x"]


def test_rrf_duplicates_count_once_at_first_position():
    assert reciprocal_rank_fusion([["a", "b", "a"]], k=0) == [("a", 1.0), ("b", 0.5)]


def test_rrf_limit_and_empty():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert [i for i, _ in reciprocal_rank_fusion([["a", "b", "c"]], limit=2)] == ["a", "b"]
    assert reciprocal_rank_fusion([["a"]], limit=0) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"k": -1}, {"limit": -1}, {"weights": [1.0]}, {"weights": [1.0, -0.5]}, {"weights": [1.0, math.nan]}],
)
def test_rrf_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], **kwargs)


@given(rankings, small_k)
def test_rrf_matches_reference(rs, k):
    assert reciprocal_rank_fusion(rs, k=k) == reference_rrf(rs, k=k)


@given(st.data(), rankings, small_k)
def test_rrf_weighted_matches_reference(data, rs, k):
    weights = data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=len(rs), max_size=len(rs)))
    assert reciprocal_rank_fusion(rs, k=k, weights=weights) == reference_rrf(rs, k=k, weights=weights)


@given(rankings, st.integers(min_value=0, max_value=20))
def test_rrf_limit_is_a_prefix(rs, limit):
    assert reciprocal_rank_fusion(rs, limit=limit) == reciprocal_rank_fusion(rs)[:limit]


@given(rankings, small_k)
def test_item_first_everywhere_wins(rs, k):
    top = 99
    rs = [[top, *r] for r in rs] or [[top]]
    assert reciprocal_rank_fusion(rs, k=k)[0][0] == top


@given(rankings, ranking, st.integers(min_value=0, max_value=5), small_k)
def test_zero_weight_removes_a_ranking(rs, extra, position, k):
    position = min(position, len(rs))
    with_extra = [*rs[:position], extra, *rs[position:]]
    weights = [1.0] * len(with_extra)
    weights[position] = 0.0
    assert reciprocal_rank_fusion(with_extra, k=k, weights=weights) == reciprocal_rank_fusion(rs, k=k)


@given(rankings, small_k)
def test_rrf_is_deterministic_and_independent_of_ranking_order_for_scores(rs, k):
    first = reciprocal_rank_fusion(rs, k=k)
    assert first == reciprocal_rank_fusion([list(r) for r in rs], k=k)
    assert dict(reciprocal_rank_fusion(list(reversed(rs)), k=k)) == dict(first)  # fsum: exact, order-free sums
    scores = [score for _, score in first]
    assert scores == sorted(scores, reverse=True)
    assert len({item for item, _ in first}) == len(first)


# --- recall, reciprocal rank, evaluate ------------------------------------------------------------------------


def test_recall_and_reciprocal_rank_examples():
    ranked = ["d", "a", "c", "b"]
    assert recall_at(ranked, {"a"}, 1) == 0.0
    assert recall_at(ranked, {"a"}, 2) == 1.0
    assert recall_at(ranked, {"a", "b"}, 2) == 0.5
    assert recall_at(ranked, {"a", "b"}, 10) == 1.0
    assert recall_at(ranked, {"z"}, 10) == 0.0
    assert reciprocal_rank(ranked, {"a"}) == 0.5
    assert reciprocal_rank(ranked, {"b", "c"}) == pytest.approx(1 / 3)  # the first acceptable one counts
    assert reciprocal_rank(ranked, {"z"}) == 0.0
    assert reciprocal_rank([], {"z"}) == 0.0


def test_per_query_metrics_reject_nothing_expected_and_bad_k():
    with pytest.raises(ValueError):
        recall_at(["a"], set(), 1)
    with pytest.raises(ValueError):
        reciprocal_rank(["a"], [])
    with pytest.raises(ValueError):
        recall_at(["a"], {"a"}, 0)


def test_evaluate_example():
    results = [
        (["a", "b", "c"], {"a"}),  # rank 1
        (["x", "y", "b", "z", "w", "q"], {"b"}),  # rank 3
        (["p", "q"], {"nope"}),  # not found
        (["m", "n", "o", "p", "q", "r"], ["r", "n"]),  # rank 2; half found in top 5, all in top 6
    ]
    result = evaluate(results, ks=(1, 5))
    assert result.n == 4
    assert result.recall[1] == pytest.approx((1 + 0 + 0 + 0) / 4)
    assert result.recall[5] == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert result.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)


def test_evaluate_no_queries():
    assert evaluate([]) == Evaluation(n=0, recall={1: 0.0, 5: 0.0}, mrr=0.0)


queries = st.lists(
    st.tuples(st.lists(items, max_size=15), st.sets(items, min_size=1, max_size=4)), min_size=1, max_size=8
)


@given(st.lists(items, max_size=15), st.sets(items, min_size=1, max_size=4), st.integers(1, 20))
def test_recall_is_monotone_in_k(ranked, expected, k):
    assert 0.0 <= recall_at(ranked, expected, k) <= recall_at(ranked, expected, k + 1) <= 1.0


@given(queries)
def test_mrr_between_zero_and_one_and_recall_monotone(qs):
    result = evaluate(qs, ks=(1, 3, 5, 10))
    assert result.n == len(qs)
    assert 0.0 <= result.mrr <= 1.0
    assert result.recall[1] <= result.recall[3] <= result.recall[5] <= result.recall[10]
    assert result.recall[1] <= result.mrr + 1e-12  # a hit at rank 1 scores 1 in both


@given(st.lists(st.sets(items, min_size=1, max_size=4), min_size=1, max_size=8))
def test_perfect_ranking_scores_one(expected_sets):
    qs = [([*sorted(expected), 100, 101], expected) for expected in expected_sets]
    result = evaluate(qs, ks=(4,))
    assert result.mrr == 1.0
    assert result.recall[4] == 1.0


# --- percentile -----------------------------------------------------------------------------------------------


def test_percentile_examples():
    assert percentile([], 50) == 0.0
    assert percentile([7], 95) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)
    assert percentile([3, 1, 2], 0) == 1.0
    assert percentile([3, 1, 2], 100) == 3.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([1.0, math.nan], 50)


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_matches_numpy(values, p):
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)), rel=1e-9, abs=1e-9)
