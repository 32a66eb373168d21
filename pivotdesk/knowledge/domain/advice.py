"""Which solution evidence to show an agent for a ticket's context (pure; built on `evidence`).

Choices, and why:

- The asked context is a subset of the ticket's context items (model, fault code, symptom, …), the most specific
  first: each solution is reported for the largest subset (at most `max_context` items) under which it was tried
  at least `min_trials` times, so "PD-X300 + E-2047" wins over "E-2047" alone once it has enough cases.
- A ticket that applied two solutions together gives each a "with:<other>" item in its context. Under a special
  case where a solution works worse (firmware < 2.3), the solutions whose joint use worked markedly better are the
  extra steps: "on firmware < 2.3 the extra step “clear the cache” was needed".
- Of the version thresholds of one system ("firmware<2.2", "firmware<2.3", …) only the most telling case is kept
  (evidence.special_cases orders them by difference, then by tries), so one fact does not come back three times.
- A case applies to the ticket when the ticket's own items hold it; a version case is unknown (None) when the ticket
  states no version of that system. Cases known not to apply are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from .evidence import Observation, SpecialCase, Tally, special_cases, tally
from .graph import version_item_parts

__all__ = ["WITH", "Advice", "CaseAdvice", "advise", "with_item"]

WITH = "with:"
MAX_ITEMS = 8


def with_item(solution: str) -> str:
    """The context item "applied together with this solution"."""
    return WITH + solution


@dataclass(frozen=True, slots=True)
class CaseAdvice:
    """A special case of a solution, the extra steps that made it work there, and whether it applies."""

    case: SpecialCase
    steps: tuple[str, ...]
    applies: bool | None


@dataclass(frozen=True, slots=True)
class Advice:
    """A solution's evidence in the context it is best known for, with its special cases."""

    context: frozenset[str]
    tally: Tally
    cases: tuple[CaseAdvice, ...]


def _contexts(items: Sequence[str], max_context: int) -> list[frozenset[str]]:
    """Subsets of the items, the largest first (in the items' order within a size)."""
    items = list(dict.fromkeys(items))[:MAX_ITEMS]
    out: list[frozenset[str]] = []
    for size in range(min(max_context, len(items)), 0, -1):
        out.extend(frozenset(c) for c in combinations(items, size))
    return out


def _applies(item: str, ticket_items: frozenset[str], ticket_systems: frozenset[str]) -> bool | None:
    if item in ticket_items:
        return True
    parts = version_item_parts(item)
    if parts is not None and parts[0] not in ticket_systems:
        return None
    return False


def _steps(
    observations: Sequence[Observation], context: frozenset[str], case: SpecialCase, now: datetime
) -> tuple[str, ...]:
    found = special_cases(observations, context=context | {case.item}, now=now, min_support=2)
    return tuple(
        c.item.removeprefix(WITH)
        for c in found
        if c.solution == case.solution and c.item.startswith(WITH) and c.difference > 0
    )


def _telling(cases: Iterable[SpecialCase]) -> list[SpecialCase]:
    """Without "with:" items, and one case per version system (the first, the most telling)."""
    seen: set[str] = set()
    out = []
    for case in cases:
        if case.item.startswith(WITH):
            continue
        parts = version_item_parts(case.item)
        if parts is not None:
            if parts[0] in seen:
                continue
            seen.add(parts[0])
        out.append(case)
    return out


def advise(
    observations: Iterable[Observation],
    *,
    context_items: Sequence[str],
    ticket_items: frozenset[str],
    ticket_systems: frozenset[str] = frozenset(),
    now: datetime,
    min_trials: int = 3,
    max_context: int = 3,
    half_life_days: float = 180.0,
) -> list[Advice]:
    """Per solution, its evidence in the most specific context with enough tries and the special cases that apply
    (or may: unknown version), best first (Wilson bound, then N, then the solution)."""
    observations = list(observations)
    best: dict[str, tuple[frozenset[str], Tally]] = {}
    for context in _contexts(context_items, max_context):
        for found in tally(observations, context=context, now=now, half_life_days=half_life_days):
            if found.m >= min_trials and found.solution not in best:
                best[found.solution] = (context, found)
    out = []
    for solution, (context, found) in best.items():
        cases = [c for c in special_cases(observations, context=context, now=now) if c.solution == solution]
        advice = []
        for case in _telling(cases):
            applies = _applies(case.item, ticket_items, ticket_systems)
            if applies is not False:
                steps = _steps(observations, context, case, now) if case.difference < 0 else ()
                advice.append(CaseAdvice(case, steps, applies))
        out.append(Advice(context, found, tuple(advice)))
    return sorted(out, key=lambda a: (-a.tally.lower_bound, -a.tally.n, a.tally.solution))
