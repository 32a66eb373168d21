"""Fusing result lists, and measuring how well retrieval finds the expected articles.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009) merges the keyword and the vector result lists without
having to calibrate their scores against each other: an item's score is Σ w_i / (k + rank_i) over the rankings that
hold it (rank 1-based, k = 60 by default). Choices, and why:

- An item listed twice in one ranking counts once, at its first (best) position: a ranking cannot vote twice.
- Ties are broken by the best single rank, then by first appearance (rankings in order, each top to bottom), so the
  result never depends on dict or set ordering. Scores are summed with `math.fsum`, which is exactly rounded and so
  independent of the order of the terms: two items with the same ranks in different rankings tie exactly.
- A ranking of weight 0 is skipped entirely (its items neither score nor break ties): fusing with a zero weight is
  the same as not fusing that ranking at all.

The evaluation half serves `pivotdesk kb eval QUERIES.csv`: per query, a ranked list of ids and the collection of
expected (acceptable) ids; `evaluate` averages recall@k and the reciprocal rank over the queries, and `percentile`
summarizes latencies the way `numpy.percentile` does by default (linear interpolation).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Evaluation",
    "evaluate",
    "percentile",
    "recall_at",
    "reciprocal_rank",
    "reciprocal_rank_fusion",
]

DEFAULT_K = 60


def reciprocal_rank_fusion[K: Hashable](
    rankings: Sequence[Sequence[K]],
    *,
    k: int = DEFAULT_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[K, float]]:
    """The items of all rankings with their fused scores, best first (at most `limit` of them).

    Raises ValueError for a negative `k` or `limit`, a negative or non-finite weight, or as many weights as rankings.
    """
    _check_fusion_arguments(rankings, k=k, weights=weights, limit=limit)
    terms: dict[K, list[float]] = {}
    best_rank: dict[K, int] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else float(weights[index])
        if weight == 0.0:
            continue
        for rank, item in _first_positions(ranking):
            terms.setdefault(item, []).append(weight / (k + rank))
            best_rank[item] = min(best_rank.get(item, rank), rank)
    # dicts keep insertion order, so the position in `terms` is the item's first appearance.
    order = {item: position for position, item in enumerate(terms)}
    scores = {item: math.fsum(parts) for item, parts in terms.items()}
    fused = sorted(scores, key=lambda item: (-scores[item], best_rank[item], order[item]))
    if limit is not None:
        fused = fused[:limit]
    return [(item, scores[item]) for item in fused]


def _check_fusion_arguments(
    rankings: Sequence[Sequence[object]], *, k: int, weights: Sequence[float] | None, limit: int | None
) -> None:
    """Rejects arguments for which the fused scores would be meaningless (or a division by zero)."""
    if k < 0:
        raise ValueError(f"k must be at least 0, not {k}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be at least 0, not {limit}")
    if weights is None:
        return
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    for weight in weights:
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weights must be finite and at least 0, not {weight}")


def _first_positions[K: Hashable](ranking: Iterable[K]) -> Iterable[tuple[int, K]]:
    """(rank, item) for each distinct item at its first position, ranks 1-based and counting the duplicates."""
    seen: set[K] = set()
    for rank, item in enumerate(ranking, start=1):
        if item not in seen:
            seen.add(item)
            yield rank, item


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Retrieval quality over `n` queries: mean recall at each cut-off k, and the mean reciprocal rank."""

    n: int
    recall: dict[int, float]
    mrr: float


def recall_at[K: Hashable](ranked: Sequence[K], expected: Collection[K], k: int) -> float:
    """The share of the expected ids found among the first `k` results (1.0 or 0.0 for a single expected id).

    Raises ValueError when `k` < 1 or nothing is expected (recall is undefined then; the caller rejects the query).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    wanted = _expected_set(expected)
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank[K: Hashable](ranked: Sequence[K], expected: Collection[K]) -> float:
    """1 / the rank of the first acceptable result (any of `expected`), 0.0 when none was found.

    Raises ValueError when nothing is expected.
    """
    wanted = _expected_set(expected)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def _expected_set[K: Hashable](expected: Collection[K]) -> frozenset[K]:
    """The expected ids as a set; a query must expect at least one."""
    wanted = frozenset(expected)
    if not wanted:
        raise ValueError("a query needs at least one expected id")
    return wanted


def evaluate[K: Hashable](
    results: Sequence[tuple[Sequence[K], Collection[K]]], ks: Sequence[int] = (1, 5)
) -> Evaluation:
    """Mean recall@k for each k in `ks` and the mean reciprocal rank over (ranked, expected) pairs, one per query.

    No queries give n = 0 and zeros (not NaN), so a report can always be printed.
    """
    n = len(results)
    if n == 0:
        for k in ks:
            if k < 1:
                raise ValueError(f"k must be at least 1, not {k}")
        return Evaluation(n=0, recall=dict.fromkeys(ks, 0.0), mrr=0.0)
    recall = {k: math.fsum(recall_at(ranked, expected, k) for ranked, expected in results) / n for k in ks}
    mrr = math.fsum(reciprocal_rank(ranked, expected) for ranked, expected in results) / n
    return Evaluation(n=n, recall=recall, mrr=mrr)


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0 ≤ p ≤ 100) with linear interpolation between the closest ranks, as `numpy.percentile`.

    Empty input gives 0.0 (a latency summary over no queries). Raises ValueError for p outside [0, 100] or a NaN value.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"p must be between 0 and 100, not {p}")
    ordered = sorted(float(value) for value in values)
    if not ordered:
        return 0.0
    if any(math.isnan(value) for value in ordered):
        raise ValueError("values must not contain NaN")
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return _lerp(ordered[low], ordered[high], position - low)


def _lerp(a: float, b: float, t: float) -> float:
    """a + (b - a)·t, computed from the nearer end as numpy does, so t = 1 gives exactly b."""
    difference = b - a
    if t >= 0.5:
        return b - difference * (1 - t)
    return a + difference * t
