"""Applying results through services: thresholds, people's values win, custom fields, override tracking."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.ai import selectors
from pivotdesk.ai.domain.steps import Entity, FieldPrediction
from pivotdesk.ai.models import ExtractedEntity, Prediction
from pivotdesk.ai.services import apply, overrides
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _p(field, value, confidence=0.9):
    return FieldPrediction(field, value, confidence, "m", "7")


def test_settings_defaults_and_workspace_overrides(workspace):
    config = selectors.ai_settings(workspace=workspace)
    assert config.enabled and config.threshold("category") == 0.6 and config.threshold("language") == 0.5
    assert config.on_negative == ("prefer_senior", "suggest_reply")
    workspace.settings = {"ai": {"thresholds": {"category": "0.8"}, "on_negative": "raise_priority"}}
    config = selectors.ai_settings(workspace=workspace)
    assert config.threshold("category") == 0.8 and config.on_negative == ("raise_priority",)


def test_fields_given_by_an_agent_at_creation_count_as_human(workspace, contact, agent):
    ticket = make_ticket(workspace=workspace, requester=contact, priority="high", actor=Actor.for_agent(agent))
    assert "priority" in selectors.human_set_fields(ticket=ticket)
    by_customer = make_ticket(workspace=workspace, requester=contact, priority="high")
    assert "priority" not in selectors.human_set_fields(ticket=by_customer)


def test_a_closed_ticket_only_gets_suggestions(workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact)
    for status in ("open", "solved", "closed"):
        ticket_services.ticket_set_status(ticket=ticket, status=status, actor=Actor.system())
    config = selectors.ai_settings(workspace=workspace)
    (row,) = apply.predictions_apply(
        actor=Actor.system(), ticket=ticket, predictions=[_p("priority", "urgent")], config=config
    )
    ticket.refresh_from_db()
    assert row.status == "suggested" and ticket.priority == "normal"


def test_unknown_values_are_kept_as_suggestions(workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact)
    config = selectors.ai_settings(workspace=workspace)
    rows = apply.predictions_apply(
        actor=Actor.system(),
        ticket=ticket,
        predictions=[_p("priority", "whenever"), _p("team", "No such team")],
        config=config,
    )
    assert [r.status for r in rows] == ["suggested", "suggested"]


def test_entities_fill_an_empty_custom_field_but_never_a_persons_value(workspace, contact, agent):
    ticket_services.custom_field_create(
        actor=Actor.system(),
        workspace=workspace,
        key="device_model",
        label="Device",
        field_type="select",
        options=["PD-100 Scanner"],
    )
    ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="order_no", label="Order", field_type="text"
    )
    workspace.settings = {"ai": {"entities": {"fields": {"order_number": "order_no", "device_model": "device_model"}}}}
    workspace.save()
    config = selectors.ai_settings(workspace=workspace)
    ticket = make_ticket(workspace=workspace, requester=contact)
    ticket_services.ticket_update(
        ticket=ticket, actor=Actor.for_agent(agent), changes={"custom_fields": {"order_no": "HUMAN-1"}}
    )
    items = [
        (Entity("order_number", "PD2026011512345", "PD2026011512345"), None),
        (Entity("device_model", "PD-100 Scanner", "PD-100"), None),
        (Entity("device_model", "PD-100 Scanner", "PD-100", source="ocr"), None),
    ]
    apply.entities_store(actor=Actor.system(), ticket=ticket, items=items, config=config)
    apply.entities_store(actor=Actor.system(), ticket=ticket, items=items, config=config)  # twice: no duplicates
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_no": "HUMAN-1", "device_model": "PD-100 Scanner"}
    assert ExtractedEntity.objects.filter(ticket=ticket).count() == 2
    assert ExtractedEntity.objects.get(ticket=ticket, kind="device_model").target_field == "device_model"
    assert ExtractedEntity.objects.get(ticket=ticket, kind="order_number").target_field == ""


def test_an_api_client_change_is_an_override_and_tracking_twice_changes_nothing(workspace, contact, agent):
    ticket = make_ticket(workspace=workspace, requester=contact)
    config = selectors.ai_settings(workspace=workspace)
    apply.predictions_apply(actor=Actor.system(), ticket=ticket, predictions=[_p("priority", "high")], config=config)
    ticket_services.ticket_update(ticket=ticket, actor=Actor.for_api(agent, "crm"), changes={"priority": "low"})
    assert overrides.predictions_track_overrides(actor=Actor.system(), ticket_id=ticket.pk, fields=["priority"]) == 1
    assert overrides.predictions_track_overrides(actor=Actor.system(), ticket_id=ticket.pk, fields=["priority"]) == 0
    prediction = Prediction.objects.get(ticket=ticket, field="priority")
    assert prediction.status == "overridden" and prediction.human_value == "low"
    assert isinstance(prediction.human_agent, AgentProfile)


def test_a_person_filling_an_abstained_field_keeps_the_abstention_with_their_value(workspace, contact, agent):
    ticket = make_ticket(workspace=workspace, requester=contact)
    config = selectors.ai_settings(workspace=workspace)
    apply.predictions_apply(
        actor=Actor.system(), ticket=ticket, predictions=[_p("ticket_type", "incident", 0.3)], config=config
    )
    assert "needs_triage" in set(ticket.tags.values_list("name", flat=True))
    ticket_services.ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"ticket_type": "problem"})
    overrides.predictions_track_overrides(actor=Actor.system(), ticket_id=ticket.pk, fields=["ticket_type"])
    prediction = Prediction.objects.get(ticket=ticket, field="ticket_type")
    assert prediction.status == "abstained" and prediction.human_value == "problem"
    assert "needs_triage" not in set(ticket.tags.values_list("name", flat=True))


def test_an_overridden_prediction_cannot_be_confirmed(workspace, contact, agent):
    ticket = make_ticket(workspace=workspace, requester=contact)
    config = selectors.ai_settings(workspace=workspace)
    (row,) = apply.predictions_apply(
        actor=Actor.system(), ticket=ticket, predictions=[_p("priority", "high")], config=config
    )
    overrides.prediction_correct(prediction=row, value="low", actor=Actor.for_agent(agent))
    from pivotdesk.common.errors import Conflict

    with pytest.raises(Conflict):
        overrides.prediction_confirm(prediction=row, actor=Actor.for_agent(agent))
