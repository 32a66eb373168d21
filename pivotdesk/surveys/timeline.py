"""The surveys' events on a ticket's timeline, in the reader's language (used by the desk's timeline)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from pivotdesk.tickets.models import TicketEvent


def score_text(score: object, scale: object) -> str:
    """A CSAT score as the customer chose it: "4/5", or good / bad on the two-face scale."""
    if not isinstance(score, int):
        return "—"
    if scale == "two":
        return _("Good 😀") if score >= 4 else _("Bad 🙁")
    return f"{score}/5"


def survey_sentence(event: TicketEvent, actor: str) -> SafeString | None:
    data = event.data or {}
    if event.verb == "survey_invited":
        if data.get("kind") == "nps":
            return format_html("{}", _("NPS survey sent to the customer"))
        return format_html("{}", _("Satisfaction survey sent to the customer"))
    if event.verb == "survey_answered":
        score = score_text(data.get("score"), data.get("scale"))
        if data.get("not_solved"):
            if data.get("reopened"):
                return format_html(
                    _("{actor} rated the ticket {score} and said it is not solved: the ticket was reopened"),
                    actor=actor,
                    score=score,
                )
            return format_html(
                _("{actor} rated the ticket {score} and said it is not solved"), actor=actor, score=score
            )
        if data.get("changed"):
            return format_html(_("{actor} changed the satisfaction rating to {score}"), actor=actor, score=score)
        return format_html(_("{actor} rated the ticket {score}"), actor=actor, score=score)
    return None
