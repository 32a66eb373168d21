"""CSAT and NPS arithmetic, the way Zendesk and Delighted count them.

- CSAT % is the share of satisfied answers (4 or 5 on the 1–5 scale; "good" is stored as 5, "bad" as 1) among the
  answers; the response rate is answers / invitations sent.
- NPS is the percentage of promoters (9–10) minus the percentage of detractors (0–6), from −100 to 100; passives
  (7–8) count in the total only.

Reports aggregate counts in the database (`selectors.py`) and hand them here; `tally_*` count plain score lists
(the demo, tests, small breakdowns). Percentages are rounded to one decimal; None when nothing was answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CSAT_MIN, CSAT_MAX, CSAT_SATISFIED = 1, 5, 4
NPS_MIN, NPS_MAX, NPS_PROMOTER, NPS_DETRACTOR_MAX = 0, 10, 9, 6
CSAT_GOOD, CSAT_BAD = 5, 1


def _pct(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100 * part / whole, 1)


@dataclass(frozen=True)
class Csat:
    invited: int  # invitations sent (answered or not; scheduled and cancelled ones excluded)
    answered: int
    satisfied: int  # answers of 4–5
    not_solved: int = 0

    @property
    def percent(self) -> float | None:
        """The CSAT score: satisfied answers in % of answers."""
        return _pct(self.satisfied, self.answered)

    @property
    def response_rate(self) -> float | None:
        return _pct(self.answered, self.invited)

    @property
    def unsatisfied(self) -> int:
        return self.answered - self.satisfied

    def __add__(self, other: Csat) -> Csat:
        return Csat(
            self.invited + other.invited,
            self.answered + other.answered,
            self.satisfied + other.satisfied,
            self.not_solved + other.not_solved,
        )


@dataclass(frozen=True)
class Nps:
    invited: int
    promoters: int
    passives: int
    detractors: int

    @property
    def answered(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """NPS: % promoters − % detractors (−100…100), one decimal; None without answers."""
        if self.answered == 0:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answered, 1)

    @property
    def promoter_percent(self) -> float | None:
        return _pct(self.promoters, self.answered)

    @property
    def passive_percent(self) -> float | None:
        return _pct(self.passives, self.answered)

    @property
    def detractor_percent(self) -> float | None:
        return _pct(self.detractors, self.answered)

    @property
    def response_rate(self) -> float | None:
        return _pct(self.answered, self.invited)


def valid_csat(score: int) -> bool:
    return CSAT_MIN <= score <= CSAT_MAX


def valid_nps(score: int) -> bool:
    return NPS_MIN <= score <= NPS_MAX


def is_satisfied(score: int) -> bool:
    return score >= CSAT_SATISFIED


def nps_group(score: int) -> str:
    """promoter (9–10), passive (7–8) or detractor (0–6)."""
    if score >= NPS_PROMOTER:
        return "promoter"
    if score > NPS_DETRACTOR_MAX:
        return "passive"
    return "detractor"


def tally_csat(scores: Iterable[int | None], *, not_solved: int = 0) -> Csat:
    """Count invitations (every item) and answers (the items that are not None)."""
    invited = answered = satisfied = 0
    for score in scores:
        invited += 1
        if score is not None:
            answered += 1
            satisfied += is_satisfied(score)
    return Csat(invited=invited, answered=answered, satisfied=satisfied, not_solved=not_solved)


def tally_nps(scores: Iterable[int | None]) -> Nps:
    invited = 0
    groups = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        invited += 1
        if score is not None:
            groups[nps_group(score)] += 1
    return Nps(
        invited=invited, promoters=groups["promoter"], passives=groups["passive"], detractors=groups["detractor"]
    )


def distribution(scores: Iterable[int], low: int, high: int) -> list[tuple[int, int]]:
    """How many answers gave each score from low to high (zeros included), for the report's bars."""
    counts = dict.fromkeys(range(low, high + 1), 0)
    for score in scores:
        if score in counts:
            counts[score] += 1
    return sorted(counts.items())
