"""What the portal uses of `pivotdesk.surveys` (the layer below): the CSAT form on a solved request and the
one-click score links of an invitation. The surveys app owns the rules (its gate, one answer per survey, "not
solved" reopens); the portal only shows and forwards."""

from __future__ import annotations

from pivotdesk.accounts.actors import Actor
from pivotdesk.surveys import selectors, services
from pivotdesk.surveys.domain.scores import CSAT_BAD, CSAT_GOOD
from pivotdesk.surveys.models import CsatScale, Survey, SurveyKind
from pivotdesk.tickets.models import Ticket


def scores_for(survey: Survey) -> list[int]:
    """The scores a survey takes: NPS 0–10; CSAT 1–5, or bad / good on a two-point scale."""
    if survey.kind == SurveyKind.NPS:
        return list(range(0, 11))
    if survey.scale == CsatScale.TWO:
        return [CSAT_BAD, CSAT_GOOD]
    return [1, 2, 3, 4, 5]


def score_links(survey_id: int) -> list[tuple[int, str]]:
    """(score, path) of the one-click answers of an invitation; [] for a survey that no longer exists."""
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return []
    return [(score, selectors.answer_path(survey, score=score)) for score in scores_for(survey)]


def csat_for(ticket: Ticket) -> Survey | None:
    """The ticket's CSAT survey, or None."""
    return selectors.csat_for_ticket(ticket)


def csat_answer(*, survey: Survey, actor: Actor, score: int, comment: str = "", solved: bool = True) -> Survey:
    """Record the customer's rating through the surveys service (its gate and rules)."""
    return services.csat_answer(survey=survey, actor=actor, score=score, comment=comment, solved=solved)
