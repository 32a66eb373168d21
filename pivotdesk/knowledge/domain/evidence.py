"""The arithmetic behind the knowledge graph's solution evidence: "worked in N of M cases".

Each resolved ticket that tried a solution is an `Observation`: which solution, the context it was tried in (opaque
items such as "product:router-x" or "firmware<2.3"), whether it worked, and when. Choices, and why:

- An observation counts for a question asked in context C when its own context holds every item of C (⊇): a case
  seen on a router with old firmware is evidence for "router" questions, but not the other way round.
- The evidence is as of `now`: observations dated after `now` are ignored, so replaying a past date sees only what
  was known then (and the ages used for weighting are never negative).
- The raw N of M is what agents are shown; it is never weighted, so it can be checked against the tickets.
- The recency-weighted rate weighs each observation 0.5 ** (age_days / half_life_days): a solution that stopped
  working lately (a new firmware) drops faster than its raw rate says.
- Solutions are ranked by the Wilson score lower bound (95 %) of the raw rate, so 14 of 17 ranks above 1 of 1: the
  bound is what the rate is at least, with 95 % confidence, and it grows with the number of tries.
- A special case is an extra context item under which a solution's raw success rate differs from its overall rate
  (all matching observations, those with the item included) by at least `min_difference`, seen in at least
  `min_support` tries: "reset works in 14 of 21 cases, but in 0 of 4 with firmware<2.3".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Observation", "SpecialCase", "Tally", "special_cases", "tally", "wilson_lower_bound"]

Z_95 = 1.959963984540054  # the two-sided 95 % quantile of the standard normal distribution
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One resolved ticket's verdict on one solution, in the context the ticket had (`at` is timezone-aware)."""

    solution: str
    context: frozenset[str]
    succeeded: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """A solution's evidence: `n` successes of `m` tries, the recency-weighted success rate, and the Wilson bound."""

    solution: str
    n: int
    m: int
    weighted_rate: float
    lower_bound: float

    @property
    def rate(self) -> float:
        """The raw success rate n / m (m is never 0 in a tally)."""
        return self.n / self.m


@dataclass(frozen=True, slots=True)
class SpecialCase:
    """Under context `item`, `solution` worked in `n` of `m` tries, against `overall_n` of `overall_m` overall."""

    solution: str
    item: str
    n: int
    m: int
    overall_n: int
    overall_m: int

    @property
    def difference(self) -> float:
        """The rate with the item minus the overall rate (negative: the solution works worse under the item)."""
        return self.n / self.m - self.overall_n / self.overall_m


def tally(
    observations: Iterable[Observation], *, context: frozenset[str], now: datetime, half_life_days: float = 180.0
) -> list[Tally]:
    """Per solution tried in `context`, its evidence, best first (by the Wilson bound, then N, then the name).

    Raises ValueError for a half-life that is not a positive number of days.
    """
    if not half_life_days > 0 or not math.isfinite(half_life_days):
        raise ValueError(f"half_life_days must be a positive number, not {half_life_days}")
    tallies = [
        _tally_one(solution, group, now=now, half_life_days=half_life_days)
        for solution, group in _by_solution(_matching(observations, context=context, now=now)).items()
    ]
    return sorted(tallies, key=lambda t: (-t.lower_bound, -t.n, t.solution))


def special_cases(
    observations: Iterable[Observation],
    *,
    context: frozenset[str],
    now: datetime,
    min_support: int = 3,
    min_difference: float = 0.3,
) -> list[SpecialCase]:
    """The extra context items under which a solution's raw success rate differs markedly from its overall rate.

    Only items beyond `context` are candidates, seen with the solution in at least `min_support` tries. The most
    marked differences come first (then the most tries, the solution and the item, for a stable order).
    """
    if min_support < 1:
        raise ValueError(f"min_support must be at least 1, not {min_support}")
    found: list[SpecialCase] = []
    for solution, group in _by_solution(_matching(observations, context=context, now=now)).items():
        found.extend(_special_cases_of(solution, group, context=context, min_support=min_support))
    # The tolerance keeps 0.7 - 0.4 (0.29999999999999993 in floating point) a difference of 0.3.
    found = [case for case in found if abs(case.difference) >= min_difference - 1e-12]
    return sorted(found, key=lambda c: (-abs(c.difference), -c.m, c.solution, c.item))


def wilson_lower_bound(n: int, m: int, z: float = Z_95) -> float:
    """The lower end of the Wilson score interval for n successes in m tries (0.0 for no tries).

    Clamped to [0, n / m], which it lies in mathematically, so that rounding never breaks that promise.
    """
    if m == 0:
        return 0.0
    rate = n / m
    z2 = z * z
    centre = rate + z2 / (2 * m)
    spread = z * math.sqrt(rate * (1 - rate) / m + z2 / (4 * m * m))
    return min(max((centre - spread) / (1 + z2 / m), 0.0), rate)


def _matching(observations: Iterable[Observation], *, context: frozenset[str], now: datetime) -> list[Observation]:
    """The observations known at `now` whose context holds every asked item."""
    return [o for o in observations if o.at <= now and context <= o.context]


def _by_solution(observations: Iterable[Observation]) -> dict[str, list[Observation]]:
    """The observations grouped by solution, in order of first appearance."""
    groups: dict[str, list[Observation]] = defaultdict(list)
    for observation in observations:
        groups[observation.solution].append(observation)
    return groups


def _tally_one(solution: str, group: Sequence[Observation], *, now: datetime, half_life_days: float) -> Tally:
    """The evidence for one solution from its (non-empty) matching observations."""
    n = sum(1 for o in group if o.succeeded)
    return Tally(
        solution=solution,
        n=n,
        m=len(group),
        weighted_rate=_weighted_rate(group, now=now, half_life_days=half_life_days),
        lower_bound=wilson_lower_bound(n, len(group)),
    )


def _weighted_rate(group: Sequence[Observation], *, now: datetime, half_life_days: float) -> float:
    """Σ w·succeeded / Σ w with w = 0.5 ** (age_days / half_life_days).

    Ages are taken relative to the newest observation (which scales every weight by the same factor, leaving the
    ratio unchanged) so that the newest weight is 1 and the sum never underflows to 0 for very old evidence.
    """
    ages = [(now - o.at).total_seconds() / SECONDS_PER_DAY for o in group]
    youngest = min(ages)
    weights = [0.5 ** ((age - youngest) / half_life_days) for age in ages]
    succeeded = math.fsum(w for w, o in zip(weights, group, strict=True) if o.succeeded)
    return min(succeeded / math.fsum(weights), 1.0)


def _special_cases_of(
    solution: str, group: Sequence[Observation], *, context: frozenset[str], min_support: int
) -> list[SpecialCase]:
    """Every extra item seen with the solution in at least `min_support` tries, with its counts (not yet filtered)."""
    overall_n = sum(1 for o in group if o.succeeded)
    tries: dict[str, int] = defaultdict(int)
    successes: dict[str, int] = defaultdict(int)
    for observation in group:
        for item in observation.context - context:
            tries[item] += 1
            successes[item] += observation.succeeded
    return [
        SpecialCase(solution, item, successes[item], m, overall_n, len(group))
        for item, m in tries.items()
        if m >= min_support
    ]
