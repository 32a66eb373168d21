"""CSAT and NPS arithmetic against a brute-force reference (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.surveys.domain import scores

csat_answers = st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=200)
nps_answers = st.lists(st.one_of(st.none(), st.integers(0, 10)), max_size=200)


def _reference_csat(answers: list[int | None]) -> tuple[float | None, float | None]:
    given_scores = [a for a in answers if a is not None]
    if not given_scores:
        return None, (0.0 if answers else None)
    happy = sum(1 for a in given_scores if a in (4, 5))
    return round(happy * 100 / len(given_scores), 1), round(len(given_scores) * 100 / len(answers), 1)


def _reference_nps(answers: list[int | None]) -> float | None:
    given_scores = [a for a in answers if a is not None]
    if not given_scores:
        return None
    promoters = [a for a in given_scores if a >= 9]
    detractors = [a for a in given_scores if a <= 6]
    return round(100 * len(promoters) / len(given_scores) - 100 * len(detractors) / len(given_scores), 1)


@given(csat_answers)
def test_csat_matches_the_reference(answers):
    tally = scores.tally_csat(answers)
    percent, rate = _reference_csat(answers)
    assert tally.percent == percent
    assert tally.response_rate == rate
    assert tally.answered + (len(answers) - tally.answered) == tally.invited == len(answers)
    assert tally.satisfied + tally.unsatisfied == tally.answered


@given(nps_answers)
def test_nps_matches_the_reference(answers):
    tally = scores.tally_nps(answers)
    reference = _reference_nps(answers)
    if reference is None:
        assert tally.score is None
    else:
        assert tally.score is not None and abs(tally.score - reference) <= 0.1  # one rounding, not two
        assert -100 <= tally.score <= 100
    assert tally.promoters + tally.passives + tally.detractors == tally.answered


@given(csat_answers, csat_answers)
def test_csat_tallies_add_up(left, right):
    assert scores.tally_csat(left) + scores.tally_csat(right) == scores.tally_csat(left + right)


@given(st.lists(st.integers(0, 10), max_size=100))
def test_the_distribution_counts_every_score_once(values):
    counts = scores.distribution(values, 0, 10)
    assert [s for s, _ in counts] == list(range(11))
    assert sum(n for _, n in counts) == len(values)


def test_known_values():
    assert scores.tally_nps([10, 9, 8, 7, 6, 0]).score == 0.0
    assert scores.tally_nps([10, 10, 10, 2]).score == 50.0
    assert scores.tally_csat([5, 4, 3, None]).percent == 66.7
    assert scores.tally_csat([5, 4, 3, None]).response_rate == 75.0
    assert [scores.nps_group(s) for s in (6, 7, 8, 9)] == ["detractor", "passive", "passive", "promoter"]
