"""Appeasement (情绪安抚): an angry or repeat customer gets an empathetic opening offered to the agent in their
language, a higher priority, and — for severe cases — the senior advisors' team; the outcome is recorded."""

from __future__ import annotations

import uuid

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.ai.models import Prediction
from pivotdesk.automation.models import Appeasement
from pivotdesk.automation.services import appeasement, rules, triggers
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import message_create
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
ANGRY = {
    "any": [
        {"field": "body", "op": "contains_any_words", "value": ["投诉", "曝光", "12315", "complaint", "lawyer"]},
        {
            "all": [
                {"field": "sentiment", "op": "is", "value": "negative"},
                {"field": "sentiment_confidence", "op": "gte", "value": 0.7},
            ]
        },
    ]
}


@pytest.fixture
def senior(workspace):
    team = TeamFactory(workspace=workspace, name="资深顾问 Senior advisors")
    team.members.add(AgentFactory(workspace=workspace))
    return team


@pytest.fixture
def rule(workspace, supervisor, senior):
    return rules.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="情绪安抚 Appeasement",
        conditions={"all": [{"field": "event", "op": "is", "value": "ticket.created"}, ANGRY]},
        actions=[{"type": "appease", "pool": senior.pk}],
    )


def _created(ticket: Ticket) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "name": "ticket.created",
        "workspace_id": ticket.workspace_id,
        "payload": {"ticket_id": ticket.pk},
    }


def test_a_severe_complaint_goes_to_the_senior_advisors_with_an_opening_in_chinese(workspace, rule, senior):
    ticket = make_ticket(
        workspace=workspace, subject="快递丢了", body="再不处理我就打12315投诉你们", language="zh-hans"
    )
    ticket.requester.name = "王女士"
    ticket.requester.save()
    (run,) = triggers.run_for_event(actor=SYSTEM, event=_created(ticket))
    assert run.ok, run.results
    row = Appeasement.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert row.level == 2 and row.reasons == ["phrase"] and ticket.team_id == senior.pk
    assert ticket.priority == "high" and row.opening.startswith("王女士") and "非常抱歉" in row.opening
    (again,) = triggers.run_for_event(actor=SYSTEM, event=_created(ticket))  # another event: the rule fires, …
    assert Appeasement.objects.filter(ticket=ticket).count() == 1 and again.results[0]["detail"] == "已安抚过"


def test_a_mild_complaint_in_english_stays_with_the_team_and_is_raised_one_step(workspace, rule, senior):
    ticket = make_ticket(workspace=workspace, subject="Order late", body="I want to file a complaint.", language="en")
    triggers.run_for_event(actor=SYSTEM, event=_created(ticket))
    row = Appeasement.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert row.level == 1 and ticket.team_id != senior.pk and ticket.priority == "high"
    assert "truly sorry" in row.opening and f"#{ticket.number}" in row.opening


def test_confident_negative_sentiment_alone_is_level_two(workspace, rule, senior):
    ticket = make_ticket(workspace=workspace, subject="太慢了", body="等了三天还没人理", language="zh-hans")
    Prediction.objects.create(
        workspace=workspace,
        ticket=ticket,
        field="sentiment",
        value="negative",
        confidence=0.93,
        status="applied",
        model_name="test",
        model_version="1",
    )
    calm = make_ticket(workspace=workspace, subject="发票", body="请开发票", language="zh-hans")
    triggers.run_for_event(actor=SYSTEM, event=_created(ticket))
    triggers.run_for_event(actor=SYSTEM, event=_created(calm))
    assert Appeasement.objects.get(ticket=ticket).reasons == ["sentiment"]
    assert Appeasement.objects.get(ticket=ticket).level == 2 and not Appeasement.objects.filter(ticket=calm).exists()


def test_the_outcome_is_recorded(workspace, rule):
    worse = make_ticket(workspace=workspace, body="complaint: nothing works", language="en")
    better = make_ticket(workspace=workspace, body="投诉：一直没人处理", language="zh-hans")
    for ticket in (worse, better):
        triggers.run_for_event(actor=SYSTEM, event=_created(ticket))
    said = message_create(
        ticket=worse, actor=Actor.for_contact(worse.requester_id), body="I will call my lawyer", as_customer=True
    )
    appeasement.outcome_on_event(actor=SYSTEM, ticket=worse, customer_text=said.body_text)
    appeasement.outcome_on_event(actor=SYSTEM, ticket=better, customer_text="好的谢谢")
    assert Appeasement.objects.get(ticket=better).outcome == "open"
    appeasement.outcome_on_event(actor=SYSTEM, ticket=better, solved=True)
    assert Appeasement.objects.get(ticket=worse).outcome == "complained"
    assert Appeasement.objects.get(ticket=better).outcome == "calmed"
