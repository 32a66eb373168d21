"""The surveys' events: typed, stored with the change, relayed after commit (reactions: `config.subscribers`).

`survey.invited` is what sends an invitation: the customer portal subscribes to it and writes the message through
the contact's channel (this app sends nothing itself). Outgoing webhooks hear both."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register

SURVEY_INVITED = "survey.invited"
SURVEY_ANSWERED = "survey.answered"


@register
@dataclass(frozen=True, kw_only=True)
class SurveyInvited(Event):
    name = SURVEY_INVITED
    description = "A satisfaction survey (CSAT after a solve, or NPS) is ready to be sent to a customer."
    survey_id: int
    kind: str
    ticket_id: int | None
    contact_id: int


@register
@dataclass(frozen=True, kw_only=True)
class SurveyAnswered(Event):
    name = SURVEY_ANSWERED
    description = "A customer answered (or changed the answer to) a CSAT or NPS survey."
    survey_id: int
    kind: str
    ticket_id: int | None
    contact_id: int
    score: int
    not_solved: bool = False
