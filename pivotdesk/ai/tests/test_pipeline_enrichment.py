"""Enrichment inside the pipeline: a local ERP peer's answer reaches classification, the summary and the LLM.

Real entity extraction, real HTTP connectors against a local peer, the real extractive summary and the real LLM
step against a local chat-completions peer; only the classifier is a recorder (it needs a trained model), so the
test can see the text classification was given.
"""

from __future__ import annotations

from typing import Any

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline, selectors
from pivotdesk.ai.domain.steps import STEP_ORDER, FieldPrediction, StepOutput, TriageInput
from pivotdesk.ai.models import ExtractedEntity, LLMCall, Prediction, TriageRun
from pivotdesk.ai.providers import llm as provider
from pivotdesk.ai.services import connectors, training
from pivotdesk.ai.tests.llm_peer import Answer, LLMPeer, RoutePeer
from pivotdesk.ai.tests.synthetic import dataset
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
HERE = "pivotdesk.ai.tests.test_pipeline_enrichment"

ORDER = {"status": "运输延误", "last_node": "上海分拣中心", "eta": "2026-05-23"}
FACT = "物流: 运输延误, 最后节点 上海分拣中心, 预计 2026-05-23"
BODY = "你好，我的订单号 SO20260518001 物流太慢了，三天没动。"

SEEN: list[TriageInput] = []


def recording_classify(inp: TriageInput) -> StepOutput:
    """Remembers what it was given; says "shipping" only when the ERP's status is in its input."""
    SEEN.append(inp)
    predictions = [FieldPrediction("ticket_type", "incident", 0.95, "recorder", "1")]
    if "运输延误" in inp.full_text:
        predictions.append(FieldPrediction("priority", "high", 0.95, "recorder", "1"))
    return StepOutput(model_name="recorder", model_version="1", predictions=predictions)


@pytest.fixture(autouse=True)
def _steps(monkeypatch, settings):
    """Classification records its input; no media to read; no LLM unless a test configures one."""
    SEEN.clear()
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", (HERE, "recording_classify"))
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "multimodal", ("pivotdesk.ai.tests.no_such_module", "run_step"))
    settings.PIVOTDESK_LLM_BASE_URL = ""
    provider._client.cache_clear()
    provider._NO_JSON_SCHEMA.clear()
    yield
    provider._client.cache_clear()


@pytest.fixture
def erp():
    with RoutePeer({"/orders/SO20260518001": Answer.json(ORDER)}) as peer:
        yield peer


@pytest.fixture
def order_connector(workspace, erp):
    return connectors.connector_create(
        workspace=workspace,
        actor=Actor.system("test"),
        name="ERP orders",
        entity_kind="order_number",
        url_template=erp.url + "/orders/{value}",
        fields=["status", "last_node", "eta"],
        summary_template="物流: {status}, 最后节点 {last_node}, 预计 {eta}",
        timeout_seconds=2.0,
    )


def _create(django_capture_on_commit_callbacks, workspace, contact, body: str = BODY) -> Ticket:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace, requester=contact, subject="物流太慢", body=body)
    ticket.refresh_from_db()
    return ticket


def test_enrichment_runs_after_entities_and_before_classification_and_summary():
    assert STEP_ORDER.index("entities") < STEP_ORDER.index("enrichment")
    assert STEP_ORDER.index("enrichment") < STEP_ORDER.index("classify")
    assert STEP_ORDER.index("enrichment") < STEP_ORDER.index("summary")
    assert list(pipeline.STEPS) == list(STEP_ORDER)


def test_the_erp_status_reaches_classification_summary_and_the_entity(
    django_capture_on_commit_callbacks, workspace, contact, order_connector, erp
):
    # Given an ERP that knows the order is delayed at the sorting centre
    # When a customer writes only "物流太慢" with the order number
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)

    # Then the ERP was asked once, about the extracted order number
    assert [r.path for r in erp.requests] == ["/orders/SO20260518001"]
    # and classification saw the status (its "priority high when delayed" was applied, as the model)
    (seen,) = SEEN
    assert seen.facts == [FACT] and FACT in seen.full_text
    assert ticket.priority == "high"
    assert TicketEvent.objects.get(ticket=ticket, field="priority").actor_type == "ai"
    # and the extractive summary says what the customer wrote and what the ERP says
    runs = {r.step: r for r in TriageRun.objects.filter(ticket=ticket)}
    text = runs["summary"].output["data"]["summary"]
    assert "物流太慢" in text and "上海分拣中心" in text
    # and the fact is attached to the order-number entity and listed on the enrichment run for the panel
    entity = ExtractedEntity.objects.get(ticket=ticket, kind="order_number")
    assert entity.value == "SO20260518001" and entity.enrichment["summary"] == FACT
    assert entity.enrichment["fields"]["last_node"] == "上海分拣中心"
    assert [f["connector"] for f in runs["enrichment"].output["data"]["facts"]] == ["ERP orders"]
    assert [f["summary"] for f in selectors.ai_panel(ticket=ticket).facts] == [FACT]  # what the agent's panel lists
    # and the runs finished in pipeline order
    finished = sorted((r for r in runs.values() if r.finished_at), key=lambda r: (r.finished_at, r.pk))
    assert [r.step for r in finished] == [s for s in STEP_ORDER if s in runs and runs[s].finished_at]


def test_sentiment_does_not_read_the_erp_status(django_capture_on_commit_callbacks, workspace, contact, erp):
    # A calm question; the ERP's "delayed, damaged, lost" words are about the parcel, not the customer's mood
    erp.routes["/orders/SO20260518001"] = Answer.json({"status": "延误 破损 丢失 投诉 差评", "last_node": "?"})
    connectors.connector_create(
        workspace=workspace,
        actor=Actor.system("test"),
        name="ERP",
        entity_kind="order_number",
        url_template=erp.url + "/orders/{value}",
        summary_template="{status}",
    )
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body="请问订单号 SO20260518001 到哪里了？")
    assert SEEN[0].facts == ["延误 破损 丢失 投诉 差评"]
    assert Prediction.objects.get(ticket=ticket, field="sentiment").value != "angry"
    assert not {"negative_sentiment", "angry"} & set(ticket.tags.values_list("name", flat=True))


def test_a_rerun_passes_the_stored_facts_on_without_asking_the_erp_again(
    django_capture_on_commit_callbacks, workspace, contact, order_connector, erp
):
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)
    predictions, events = Prediction.objects.count(), TicketEvent.objects.filter(ticket=ticket).count()

    # When triage runs again, not forced: nothing is repeated
    outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    assert outcome is not None and outcome["enrichment"] == outcome["classify"] == "unchanged"
    assert len(erp.requests) == 1 and len(SEEN) == 1
    assert Prediction.objects.count() == predictions
    assert TicketEvent.objects.filter(ticket=ticket).count() == events

    # When only classification is forced, it sees the facts the stored enrichment run found
    forced = pipeline.triage_ticket(ticket_id=ticket.pk, force=True, steps=("classify",))
    assert forced == {"classify": "succeeded"}
    assert len(erp.requests) == 1 and SEEN[-1].facts == [FACT]
    assert TriageRun.objects.filter(ticket=ticket).count() == len(STEP_ORDER)


def test_a_failing_erp_leaves_classification_without_facts_and_is_recorded(
    django_capture_on_commit_callbacks, workspace, contact, order_connector, erp
):
    erp.routes["/orders/SO20260518001"] = Answer.json({"error": "db down"}, status=500)
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)
    run = TriageRun.objects.get(ticket=ticket, step="enrichment")
    assert run.status == "succeeded" and run.output["data"]["failed"] == 1 and run.output["data"]["facts"] == []
    assert SEEN[0].facts == [] and ticket.priority == "normal"
    assert TriageRun.objects.get(ticket=ticket, step="summary").status == "succeeded"


def test_a_follow_up_message_looks_the_order_up_again(
    django_capture_on_commit_callbacks, workspace, contact, order_connector, erp
):
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)
    erp.routes["/orders/SO20260518001"] = Answer.json({**ORDER, "status": "派送中", "last_node": "浦东营业部"})
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(
            ticket=ticket, actor=Actor.for_contact(contact.pk), body="现在到哪了？", as_customer=True
        )
    assert len(erp.requests) == 2
    assert SEEN[-1].facts == ["物流: 派送中, 最后节点 浦东营业部, 预计 2026-05-23"]


# --- with an LLM --------------------------------------------------------------------------------------------------
DIGEST: dict[str, Any] = {
    "summary": "订单 SO20260518001 在上海分拣中心延误，客户催促。",
    "intent": "delivery_delay",
    "order_numbers": ["SO20260518001"],
    "device_models": [],
    "draft_reply": "您好，您的订单目前在上海分拣中心，因运输延误预计 2026-05-23 送达。",
}


@pytest.fixture
def llm(settings):
    with LLMPeer() as peer:
        peer.reply = dict(DIGEST)
        settings.PIVOTDESK_LLM_BASE_URL = peer.base_url
        settings.PIVOTDESK_LLM_API_KEY = "sk-test"
        settings.PIVOTDESK_LLM_MODEL = "qwen2.5-7b-instruct"
        settings.PIVOTDESK_LLM_TIMEOUT_SECONDS = 5.0
        yield peer


@pytest.mark.usefixtures("order_connector", "erp")
def test_the_llm_prompt_carries_the_erp_status(django_capture_on_commit_callbacks, workspace, contact, llm):
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)
    (request,) = llm.completions
    prompt = "\n".join(m["content"] for m in request.json["messages"])
    assert FACT in prompt and "SO20260518001" in prompt
    run = TriageRun.objects.get(ticket=ticket, step="summary")
    assert run.status == "succeeded" and run.output["data"]["extraction_check"]["agrees"]
    assert "上海分拣中心" in run.output["data"]["draft_reply"]


def test_a_failing_llm_keeps_the_log_of_each_failed_call(
    django_capture_on_commit_callbacks, workspace, contact, llm, settings
):
    # Given an LLM that answers prose instead of the JSON object, twice
    settings.PIVOTDESK_AI_STEP_ATTEMPTS = 2
    llm.content = "好的，这是摘要：客户的包裹延误了。"
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact)
    # Then the step is failed after two attempts, and both calls (with the tokens they cost) are still logged
    run = TriageRun.objects.get(ticket=ticket, step="summary")
    assert run.status == "failed" and run.attempts == 2 and "TriageDigest" in run.error
    calls = list(LLMCall.objects.filter(ticket_id=ticket.pk))
    assert len(calls) == 2 and not any(c.ok for c in calls)


# --- with a trained classifier ------------------------------------------------------------------------------------
def _trained_workspace(workspace):
    """Solved tickets in three categories (the synthetic bilingual set) and a category model trained on them."""
    categories = {
        name: ticket_services.category_create(actor=Actor.system(), workspace=workspace, name=name)
        for name in ("billing", "shipping", "login")
    }
    texts, labels = dataset(24)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        ticket = make_ticket(workspace=workspace, subject=f"#{i}", body=text, category=categories[label])
        ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=Actor.system())
    (result,) = training.workspace_train(actor=Actor.system(), workspace=workspace, fields=("category",))
    assert result.activated
    return categories, result.model_version


def test_a_trained_classifier_reads_the_facts_but_judges_scope_on_the_customers_words(
    django_capture_on_commit_callbacks, workspace, contact, order_connector, monkeypatch
):
    # Given a category model trained on what customers wrote (no connector facts in its training texts)
    categories, version = _trained_workspace(workspace)
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", ("pivotdesk.ai.services.training", "classify_step"))
    body = "我的手机快递还没到，物流一直不更新，订单号 SO20260518001"
    # When a shipping ticket comes in and the ERP adds its Chinese status line
    ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body=body)
    # Then the category is applied, in scope
    run = TriageRun.objects.get(ticket=ticket, step="classify")
    assert run.status == "succeeded" and run.output["data"]["fields"]["category"]["out_of_scope"] is False
    assert Prediction.objects.get(ticket=ticket, field="category").status == "applied"
    assert ticket.category_id == categories["shipping"].pk
    # and judged on the customer's own words, the text with the fact line is nearer the training texts than it
    # would be with the fact line judged too (the distance part of the detector reads the own words)
    inp = TriageInput(workspace_id=workspace.pk, ticket_id=ticket.pk, subject="物流太慢", text=body, facts=[FACT])
    _, mixed = training._prediction(version, inp.full_text, {})
    own, own_decision = training._prediction(version, inp.full_text, {}, scope_text=inp.customer_text)
    assert not own.out_of_scope and own.value == categories["shipping"].pk
    assert mixed.scope_similarity < own_decision.scope_similarity
