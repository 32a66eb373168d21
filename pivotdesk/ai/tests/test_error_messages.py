"""The AI's errors reach the agent once, in the agent's language, with a stable code behind them."""

from __future__ import annotations

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.ai.models import Prediction
from pivotdesk.ai.services.overrides import prediction_correct
from pivotdesk.ai.tests.test_ai_ui import HTMX
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.tests.factories import make_ticket


@pytest.fixture
def sentiment(workspace, contact, monkeypatch):
    """A ticket the pipeline read (the built-in sentiment step, the other steps left out): its sentiment."""
    for step in ("classify", "multimodal", "summary", "enrichment"):
        monkeypatch.setitem(pipeline.ENTRY_POINTS, step, ("pivotdesk.ai.tests.no_such_module", "run_step"))
    ticket = make_ticket(workspace=workspace, requester=contact, body="This is UNACCEPTABLE!!! Third time I ask!")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    return Prediction.objects.get(ticket=ticket, field="sentiment")


@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "未知的情绪“furious”。"), ("en", "Unknown sentiment “furious”.")]
)
def test_an_unknown_sentiment_is_shown_once_in_the_agents_language(agent, sentiment, language, message, client_as):
    # given a sentiment the AI predicted, and an agent whose browser asks for a language
    client = client_as(agent, language)
    # when the agent corrects it to a value that does not exist
    response = client.post(
        f"/tickets/{sentiment.ticket.number}/ai/{sentiment.pk}/correct/", {"value": "furious"}, headers=HTMX
    )
    # then the toast says so once, in that language, and names no code
    assert response.status_code == 422
    page = response.content.decode()
    assert page.count(message) == 1
    assert "invalid_value" not in page


def test_the_code_is_the_same_in_every_language(agent, sentiment):
    # given the same wrong correction, in Chinese and in English
    codes = []
    for language in ("zh-hans", "en"):
        with translation.override(language), pytest.raises(ValidationFailed) as refused:
            prediction_correct(prediction=sentiment, value="furious", actor=Actor.for_agent(agent))
        codes.append(refused.value.code)
    # then the code does not follow the language
    assert codes == [AIErrorCode.INVALID_VALUE, AIErrorCode.INVALID_VALUE]
