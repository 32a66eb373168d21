"""The portal's use of `pivotdesk.surveys` (built beside it): the CSAT form on a solved request and the score links
of an invitation. Written against the agreed interface (`selectors.csat_for_ticket`, `selectors.answer_path`,
`services.csat_answer`); while a part of it is missing the portal shows no rating form and sends no invitation,
instead of failing."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.tickets.models import Ticket


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"pivotdesk.surveys.{name}")
    except ImportError:
        return None


def _function(module: str, name: str) -> Any:
    found = _module(module)
    return getattr(found, name, None) if found is not None else None


def available() -> bool:
    """Whether the surveys app offers what the portal uses."""
    return all(
        (
            _function("selectors", "csat_for_ticket"),
            _function("selectors", "answer_path"),
            _function("services", "csat_answer"),
        )
    )


def scores_for(survey: Any) -> list[int]:
    """The scores a survey takes: NPS 0–10; CSAT 1–5, or good / bad on a two-point scale."""
    if getattr(survey, "kind", "") == "nps":
        return list(range(0, 11))
    if getattr(survey, "scale", "five") == "two":
        scores = _module("domain.scores")
        good, bad = getattr(scores, "CSAT_GOOD", 5), getattr(scores, "CSAT_BAD", 1)
        return [bad, good]
    return [1, 2, 3, 4, 5]


def score_links(survey_id: int) -> list[tuple[int, str]]:
    """(score, path) of the one-click answers of an invitation; [] when surveys is not ready."""
    models, answer_path = _module("models"), _function("selectors", "answer_path")
    if models is None or answer_path is None:
        return []
    survey = models.Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return []
    return [(score, str(answer_path(survey, score=score))) for score in scores_for(survey)]


def csat_for(ticket: Ticket) -> Any:
    """The ticket's CSAT survey, or None (none yet, or surveys not ready)."""
    if not available():
        return None
    return _function("selectors", "csat_for_ticket")(ticket)


def csat_answer(*, survey: Any, actor: Actor, score: int, comment: str = "", solved: bool = True) -> Any:
    """Record the customer's rating through the surveys service (its gate and rules)."""
    return _function("services", "csat_answer")(survey=survey, actor=actor, score=score, comment=comment, solved=solved)
