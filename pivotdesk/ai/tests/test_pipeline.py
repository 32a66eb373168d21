"""The triage pipeline end to end: through tickets.services, events after commit, Celery eager."""

from __future__ import annotations

from typing import Any

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline
from pivotdesk.ai.domain.steps import STEP_ORDER, FieldPrediction, StepOutput, TriageInput
from pivotdesk.ai.models import ExtractedEntity, Prediction, TriageRun
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
HERE = "pivotdesk.ai.tests.test_pipeline"

ZH_BODY = (
    "你好，我的订单号：PD2026011512345 还没发货，已经等了一周。联系电话 13812345678，"
    "身份证 11010519491231002X。请尽快处理。"
)

# What the fake classifier says; tests change it.
FAKE: dict[str, Any] = {"category": None, "confidence": 0.9, "out_of_scope": False, "calls": 0}


def fake_classify(inp: TriageInput) -> StepOutput:
    FAKE["calls"] += 1
    predictions = []
    if FAKE["category"] is not None:
        predictions.append(
            FieldPrediction(
                field="category",
                value=FAKE["category"],
                confidence=FAKE["confidence"],
                model_name="fake-clf",
                model_version="3",
                out_of_scope=FAKE["out_of_scope"],
                alternatives=(("other", 0.1),),
            )
        )
    predictions.append(FieldPrediction("ticket_type", "incident", 0.95, "fake-clf", "3"))
    return StepOutput(model_name="fake-clf", model_version="3", predictions=predictions)


@pytest.fixture(autouse=True)
def _own_steps(monkeypatch):
    """Other engineers' steps are replaced: classify by the fake above, the rest absent (not installed)."""
    FAKE.update(category=None, confidence=0.9, out_of_scope=False, calls=0)
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", (HERE, "fake_classify"))
    for step in ("multimodal", "sentiment", "summary", "enrichment"):
        monkeypatch.setitem(pipeline.ENTRY_POINTS, step, ("pivotdesk.ai.tests.no_such_module", "run_step"))


@pytest.fixture
def category(workspace):
    return ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Shipping", name_zh="物流")


@pytest.fixture
def order_field(workspace):
    return ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="order_number", label="Order number", field_type="text"
    )


def _create(django_capture_on_commit_callbacks, workspace, contact, **kwargs: Any) -> Ticket:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=contact, **kwargs)
    ticket.refresh_from_db()
    return ticket


def test_a_chinese_ticket_gets_language_entities_and_one_run_per_step(
    django_capture_on_commit_callbacks, workspace, contact, order_field
):
    # given a workspace serving zh + en with an order-number field; when a customer opens a Chinese ticket
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, subject="订单没发货", body=ZH_BODY)
    # then the language is set by the AI, with provenance on the prediction and the timeline
    assert ticket.language == "zh"
    language = Prediction.objects.get(ticket=ticket, field="language")
    assert language.status == "applied" and language.model_name == "lingua" and language.confidence >= 0.9
    # entities: order number, phone (E.164), ID number masked and never raw
    found = {e.kind: e for e in ExtractedEntity.objects.filter(ticket=ticket)}
    assert found["order_number"].value == "PD2026011512345"
    assert found["phone"].value == "+8613812345678"
    assert found["id_number"].value == "110105********002X" and found["id_number"].raw == ""
    assert "11010519491231002X" not in str(list(TriageRun.objects.filter(ticket=ticket).values_list("output")))
    # the order number filled the custom field, as the AI
    assert ticket.custom_fields["order_number"] == "PD2026011512345"
    assert found["order_number"].target_field == "order_number"
    event = TicketEvent.objects.get(ticket=ticket, field="custom_fields.order_number")
    assert event.actor_type == "ai"
    # one run per step: own steps succeeded, absent ones skipped as "not installed"
    runs = {r.step: r for r in TriageRun.objects.filter(ticket=ticket)}
    assert set(runs) == set(STEP_ORDER)
    assert runs["multimodal"].status == "skipped" and runs["multimodal"].output == {"reason": "not installed"}
    assert runs["enrichment"].status == "skipped"
    for step in ("language", "classify", "entities", "sentiment", "summary"):
        assert runs[step].status == "succeeded", step
        assert runs[step].duration_ms is not None and runs[step].attempts == 1
    assert runs["sentiment"].model_name == "lexicon-sentiment"  # no trained model: the lexicon fallback
    assert runs["summary"].output["data"]["summary"]
    assert "11010519491231002X" not in runs["summary"].output["data"]["summary"]


def test_a_failing_step_is_retried_then_recorded_failed_and_later_steps_still_run(
    django_capture_on_commit_callbacks, workspace, contact, monkeypatch
):
    calls = []

    def broken(ctx):
        calls.append(1)
        raise RuntimeError("extractor exploded")

    monkeypatch.setitem(pipeline.STEPS, "entities", broken)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="My order 12345678 is late")
    run = TriageRun.objects.get(ticket=ticket, step="entities")
    assert run.status == "failed" and run.attempts == 2 and len(calls) == 2
    assert "RuntimeError: extractor exploded" in run.error
    assert TriageRun.objects.get(ticket=ticket, step="sentiment").status == "succeeded"
    assert TriageRun.objects.get(ticket=ticket, step="summary").status == "succeeded"
    assert ticket.language == "en"


def test_a_step_that_fails_once_succeeds_on_the_second_attempt(
    django_capture_on_commit_callbacks, workspace, contact, monkeypatch
):
    original = pipeline.STEPS["language"]
    state = {"n": 0}

    def flaky(ctx):
        state["n"] += 1
        if state["n"] == 1:
            raise TimeoutError("slow model")
        return original(ctx)

    monkeypatch.setitem(pipeline.STEPS, "language", flaky)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Where is my parcel?")
    run = TriageRun.objects.get(ticket=ticket, step="language")
    assert run.status == "succeeded" and run.attempts == 2 and run.error == ""
    assert Prediction.objects.filter(ticket=ticket, field="language").count() == 1  # nothing applied twice


def test_below_threshold_the_field_stays_empty_and_the_ticket_needs_triage(
    django_capture_on_commit_callbacks, workspace, contact, category
):
    FAKE.update(category=category.pk, confidence=0.3)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Something odd happened")
    assert ticket.category_id is None
    prediction = Prediction.objects.get(ticket=ticket, field="category")
    assert prediction.status == "abstained" and prediction.value == category.pk
    assert prediction.alternatives == [["other", 0.1]]
    assert "needs_triage" in set(ticket.tags.values_list("name", flat=True))
    # the confident ticket_type prediction was applied in triage's one update, naming every model that changed
    # the ticket (the language detector's too)
    assert ticket.ticket_type == "incident"
    event = TicketEvent.objects.get(ticket=ticket, field="ticket_type")
    assert event.actor_type == "ai" and event.actor_label.startswith("triage ") and "fake-clf 3" in event.actor_label
    assert TicketEvent.objects.get(ticket=ticket, field="language").actor_label == event.actor_label


def test_workspace_thresholds_decide_per_field(django_capture_on_commit_callbacks, workspace, contact, category):
    workspace.settings = {"ai": {"thresholds": {"category": 0.2}}}
    workspace.save()
    FAKE.update(category="物流", confidence=0.3)  # a name (zh) is resolved to the category too
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Parcel lost")
    assert ticket.category_id == category.pk
    assert Prediction.objects.get(ticket=ticket, field="category").status == "applied"
    assert "needs_triage" not in set(ticket.tags.values_list("name", flat=True))


def test_out_of_scope_is_not_applied_and_needs_triage(django_capture_on_commit_callbacks, workspace, contact, category):
    FAKE.update(category=category.pk, confidence=0.99, out_of_scope=True)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Lorem ipsum dolor")
    assert ticket.category_id is None
    assert Prediction.objects.get(ticket=ticket, field="category").status == "out_of_scope"
    assert "needs_triage" in set(ticket.tags.values_list("name", flat=True))


def test_a_field_a_person_set_is_not_overwritten(
    django_capture_on_commit_callbacks, workspace, contact, category, agent
):
    other = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    ticket = make_ticket(workspace=workspace, requester=contact, body="Refund please")  # no callbacks: not triaged
    ticket_services.ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"category": other.pk})
    FAKE.update(category=category.pk, confidence=0.99)
    pipeline.triage_ticket(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.category_id == other.pk
    assert Prediction.objects.get(ticket=ticket, field="category").status == "skipped_human"


def test_an_agent_changing_an_ai_set_field_records_the_override(
    django_capture_on_commit_callbacks, workspace, contact, category, agent
):
    FAKE.update(category=category.pk, confidence=0.95)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Where is my parcel")
    assert ticket.category_id == category.pk
    billing = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"category": billing.pk})
    prediction = Prediction.objects.get(ticket=ticket, field="category")
    assert prediction.status == "overridden"
    assert prediction.human_value == billing.pk and prediction.human_agent == agent
    assert prediction.reviewed_at is not None
    # a later change by the same person keeps the final value (what training on resolved tickets uses)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"category": None})
    prediction.refresh_from_db()
    assert prediction.human_value is None and prediction.status == "overridden"


def test_ai_changes_are_not_taken_for_overrides(django_capture_on_commit_callbacks, workspace, contact, category):
    FAKE.update(category=category.pk, confidence=0.95)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Where is my parcel")
    assert Prediction.objects.get(ticket=ticket, field="category").status == "applied"
    assert not Prediction.objects.filter(ticket=ticket, status="overridden").exists()


def test_rerunning_is_a_no_op_unless_forced(django_capture_on_commit_callbacks, workspace, contact, category):
    FAKE.update(category=category.pk, confidence=0.95)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Where is my parcel")
    predictions, events = Prediction.objects.count(), TicketEvent.objects.filter(ticket=ticket).count()
    outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    assert outcome is not None
    assert outcome["language"] == outcome["classify"] == "unchanged"
    assert outcome["multimodal"] == "skipped"  # skipped steps are tried again (a module may be installed now)
    assert FAKE["calls"] == 1
    assert Prediction.objects.count() == predictions
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    assert TriageRun.objects.filter(ticket=ticket).count() == len(STEP_ORDER)
    forced = pipeline.triage_ticket(ticket_id=ticket.pk, force=True)
    assert forced is not None and forced["classify"] == "succeeded" and FAKE["calls"] == 2
    assert TriageRun.objects.filter(ticket=ticket).count() == len(STEP_ORDER)  # same rows, run again


def test_a_customer_follow_up_is_triaged_per_message_but_agent_replies_are_not(
    django_capture_on_commit_callbacks, workspace, contact, agent
):
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="Where is my parcel")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Checking now.")
    assert not TriageRun.objects.filter(ticket=ticket, message__isnull=False).exists()
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_services.message_create(
            ticket=ticket,
            actor=Actor.for_contact(contact.pk),
            body="还是没有收到，订单号 PD2026011599999",
            as_customer=True,
        )
    runs = TriageRun.objects.filter(ticket=ticket, message=message)
    assert runs.count() == len(STEP_ORDER)
    assert ExtractedEntity.objects.filter(ticket=ticket, kind="order_number", value="PD2026011599999").exists()


def test_an_angry_customer_is_flagged_with_the_configured_response(
    django_capture_on_commit_callbacks, workspace, contact
):
    workspace.settings = {"ai": {"on_negative": ["raise_priority", "prefer_senior", "suggest_reply"]}}
    workspace.save()
    body = "这是第三次了！！！退款还没到账，再不处理我就去12315投诉！"
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, subject="退款", body=body)
    assert {"negative_sentiment", "angry"} <= set(ticket.tags.values_list("name", flat=True))
    sentiment = Prediction.objects.get(ticket=ticket, field="sentiment")
    assert sentiment.value == "angry" and sentiment.status == "applied"
    assert ticket.priority == "high"  # one step up from normal
    assert Prediction.objects.get(ticket=ticket, field="priority").model_name == "lexicon-sentiment (on_negative)"
    hint = Prediction.objects.get(ticket=ticket, field="routing_hint")
    assert hint.value["prefer"] == "senior" and hint.status == "suggested"
    reply = Prediction.objects.get(ticket=ticket, field="reply_suggestion")
    assert "抱歉" in reply.value


def test_a_calm_ticket_is_not_flagged(django_capture_on_commit_callbacks, workspace, contact):
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="How do I change my invoice address?")
    assert not {"negative_sentiment", "angry"} & set(ticket.tags.values_list("name", flat=True))
    assert ticket.priority == "normal"


def test_ai_switched_off_does_nothing(django_capture_on_commit_callbacks, workspace, contact, settings):
    settings.PIVOTDESK_AI_ENABLED = False
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body=ZH_BODY)
    assert not TriageRun.objects.filter(ticket=ticket).exists()
    assert not Prediction.objects.exists() and ticket.language == ""
    assert pipeline.triage_ticket(ticket_id=ticket.pk) is None


def test_a_workspace_can_switch_ai_off(django_capture_on_commit_callbacks, workspace, contact):
    workspace.settings = {"ai": {"enabled": False}}
    workspace.save()
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body=ZH_BODY)
    assert not TriageRun.objects.filter(ticket=ticket).exists()


def test_a_broken_peer_module_fails_its_step_and_an_absent_one_is_skipped(monkeypatch, workspace, contact):
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", (HERE, "no_such_function"))
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "enrichment", ("pivotdesk.ai.tests.broken_peer", "enrichment_step"))
    ticket = make_ticket(workspace=workspace, requester=contact, body="hello")
    outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    assert outcome is not None and outcome["classify"] == "skipped"
    assert outcome["enrichment"] == "failed"
    assert "no_module_inside" in TriageRun.objects.get(ticket=ticket, step="enrichment").error


def test_peer_steps_are_called_with_the_contract(monkeypatch, workspace, contact):
    seen: dict[str, Any] = {}

    def summary_step(inp):
        seen["summary"] = inp
        return StepOutput(model_name="qwen", model_version="p1", data={"summary": "客户催发货 11010519491231002X"})

    def enrichment_step(inp, entities):
        seen["entities"] = entities
        return StepOutput(
            model_name="erp", model_version="1", data={"facts": [{"kind": "order_number", "value": "PD12345678"}]}
        )

    import sys
    import types

    module = types.ModuleType("fake_peer")
    module.summary_step = summary_step
    module.enrichment_step = enrichment_step
    monkeypatch.setitem(sys.modules, "fake_peer", module)
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "summary", ("fake_peer", "summary_step"))
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "enrichment", ("fake_peer", "enrichment_step"))
    ticket = make_ticket(workspace=workspace, requester=contact, body="订单 PD12345678 没到")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    assert seen["summary"].language == "zh"  # the language step ran before
    assert [e.kind for e in seen["entities"]] == ["order_number"]
    run = TriageRun.objects.get(ticket=ticket, step="summary")
    assert run.model_name == "qwen" and "********" in run.output["data"]["summary"]
    assert ExtractedEntity.objects.get(ticket=ticket, kind="order_number").enrichment["value"] == "PD12345678"


def test_categories_resolve_only_within_the_workspace(workspace, other_workspace, contact):
    foreign = Category.objects.create(workspace=other_workspace, name="Foreign")
    FAKE.update(category=foreign.pk, confidence=0.99)
    ticket = make_ticket(workspace=workspace, requester=contact, body="hello there")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.category_id is None
    assert Prediction.objects.get(ticket=ticket, field="category").status == "suggested"
