"""Training reads a ticket as the classify step read it: the customer's words, attachment text and the connectors'
facts, so a label that only the ERP can tell is learned; the out-of-scope check still learns the customer's words.

Real pipeline (entities, HTTP connectors against a local ERP peer, the extractive summary), real training and the
real classify step; only media reading is absent and the LLM is off.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline
from pivotdesk.ai.domain import texts
from pivotdesk.ai.domain.steps import StepOutput, TriageInput
from pivotdesk.ai.models import Prediction, PredictionStatus, TriageRun
from pivotdesk.ai.providers import llm as provider
from pivotdesk.ai.services import connectors, training
from pivotdesk.ai.tests.llm_peer import Answer, Recorded, RoutePeer
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import MessageKind, Ticket
from pivotdesk.tickets.services.messages import attachment_add, attachment_set_extracted_text, message_create
from pivotdesk.tickets.tests.factories import make_ticket

HERE = "pivotdesk.ai.tests.test_training_facts"
SEEN: list[TriageInput] = []

# The same vague complaints in both categories: only the ERP's answer tells a delayed parcel from a failed payment.
COMPLAINTS = [
    "订单 {order} 有问题，请尽快处理",
    "我的订单号 {order} 出问题了，帮我看看",
    "Order {order} has a problem, please help",
    "order number {order}: something is wrong, please check",
]
CITIES = ["上海", "广州", "成都", "武汉", "杭州"]
WALLETS = ["支付宝", "微信支付", "银行卡", "信用卡"]


def recording_classify(inp: TriageInput) -> StepOutput:
    """Remembers what the classify step was given (and predicts nothing)."""
    SEEN.append(inp)
    return StepOutput(model_name="recorder", model_version="1")


@pytest.fixture(autouse=True)
def _steps(monkeypatch, settings, tmp_path):
    """No media to read, no LLM; model artifacts in a temporary folder."""
    SEEN.clear()
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "multimodal", ("pivotdesk.ai.tests.no_such_module", "run_step"))
    settings.PIVOTDESK_LLM_BASE_URL = ""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    provider._client.cache_clear()
    yield
    provider._client.cache_clear()


def _connector(workspace, peer: RoutePeer):
    return connectors.connector_create(
        workspace=workspace,
        actor=Actor.system("test"),
        name="ERP orders",
        entity_kind="order_number",
        url_template=peer.url + "/orders/{value}",
        fields=["kind", "status", "detail"],
        summary_template="{kind}: {status}, {detail}",
        timeout_seconds=2.0,
    )


# --- the pure builder ------------------------------------------------------------------------------------------------
lines = st.lists(st.text(max_size=12), max_size=3)


@given(subject=st.text(max_size=12), messages=st.text(max_size=30), attachments=lines, facts=lines)
def test_the_builder_reads_as_the_triage_input_does(subject, messages, attachments, facts):
    inp = TriageInput(workspace_id=1, ticket_id=1, subject=subject, text=messages, extra_text=attachments, facts=facts)
    built = texts.model_texts(subject=subject, messages=messages, attachments=attachments, facts=facts)
    assert built == texts.input_texts(inp)
    assert (built.label, built.own) == (inp.full_text, inp.customer_text)
    assert texts.model_texts(subject=subject, messages=messages, attachments=attachments).label == built.own


@given(bodies=st.lists(st.text(max_size=20), max_size=4), fallback=st.text(max_size=20))
def test_messages_are_the_newest_text_of_the_customer_s_messages(bodies, fallback):
    text = texts.messages_text(bodies, fallback, limit=25)
    joined = "\n".join(b for b in (bodies or [fallback]) if b)
    assert text == joined[-25:]
    assert texts.passed_facts([*bodies, None, " "]) == [b for b in bodies if b.strip()]


# --- through the database --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_training_reads_a_ticket_exactly_as_the_classify_step_read_it(workspace, contact, agent, monkeypatch):
    # Given an ERP whose answer about the order changes between two triages
    statuses = iter(["运输延误", "已签收"])

    def order(_: Recorded) -> Answer:
        return Answer.json({"kind": "物流", "status": next(statuses), "detail": "最后节点 上海分拣中心"})

    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", (HERE, "recording_classify"))
    with RoutePeer({"/orders/SO20260518001": order}) as erp:
        _connector(workspace, erp)
        # and a ticket with a screenshot whose text was read, triaged once
        ticket = make_ticket(
            workspace=workspace, requester=contact, subject="物流太慢", body="订单号 SO20260518001 没动"
        )
        first = ticket.messages.get()
        shot = attachment_add(
            actor=Actor.system(),
            ticket=ticket,
            message=first,
            filename="shot.png",
            content=b"png",
            content_type="image/png",
        )
        attachment_set_extracted_text(
            actor=Actor.system(), attachment=shot, text="订单状态: 已发货", source="ocr", model="t"
        )
        pipeline.triage_ticket(ticket_id=ticket.pk)
        # When an agent replies, notes something, and the customer writes again (triaged for that message)
        staff = Actor.for_agent(agent)
        message_create(ticket=ticket, actor=staff, body="我们查一下 (agent)")
        message_create(ticket=ticket, actor=staff, body="内部备注 (note)", kind=MessageKind.NOTE)
        again = message_create(ticket=ticket, actor=Actor.for_contact(contact.pk, "c"), body="还是没收到")
        pipeline.triage_ticket(ticket_id=ticket.pk, message_id=again.pk)

    # Then training builds the very texts the classify step read the last time
    trained = training.ticket_texts(workspace_id=workspace.pk, subjects={ticket.pk: ticket.subject})[ticket.pk]
    assert len(SEEN) == 2 and trained == texts.input_texts(SEEN[-1])
    # which hold the newest facts after the customer's words and the screenshot's text, and no staff messages
    assert trained.label.endswith("物流: 已签收, 最后节点 上海分拣中心") and "运输延误" not in trained.label
    assert "还是没收到" in trained.own and "订单状态: 已发货" in trained.own and "已签收" not in trained.own
    assert "(agent)" not in trained.label and "(note)" not in trained.label
    # and a ticket never enriched trains on the customer's words alone
    plain = make_ticket(workspace=workspace, requester=contact, subject="hi", body="no order here")
    (alone,) = training.ticket_texts(workspace_id=workspace.pk, subjects={plain.pk: "hi"}).values()
    assert alone == texts.ModelTexts(label="hi\nno order here", own="hi\nno order here") and not alone.has_facts


def _orders(n: int, rng: random.Random) -> list[str]:
    """Order numbers drawn at random, so no digit pattern tells the categories apart."""
    return [f"SO{n:02d}{rng.randrange(10**8, 10**9)}" for n in range(n)]


def _erp_answer(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "shipping":
        return {"kind": "物流", "status": "运输延误", "detail": f"最后节点 {rng.choice(CITIES)}分拣中心"}
    return {"kind": "支付", "status": "扣款失败", "detail": f"渠道 {rng.choice(WALLETS)}"}


def _create(capture, workspace, contact, body: str, **fields: Any) -> Ticket:
    with capture(execute=True):  # the pipeline runs on commit, as in production
        ticket = make_ticket(workspace=workspace, requester=contact, subject="订单问题", body=body, **fields)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_a_model_trained_with_the_erp_facts_classifies_a_new_ticket_by_them(
    django_capture_on_commit_callbacks, workspace, contact
):
    rng = random.Random(7)
    kinds = ["shipping", "payment"] * 14 + ["shipping", "payment"] * 3  # 28 to train on, then 6 new tickets
    orders = _orders(len(kinds), rng)
    routes = {f"/orders/{o}": Answer.json(_erp_answer(k, rng)) for o, k in zip(orders, kinds, strict=True)}
    categories = {
        k: ticket_services.category_create(actor=Actor.system(), workspace=workspace, name=k)
        for k in ("shipping", "payment")
    }
    with RoutePeer(routes) as erp:
        _connector(workspace, erp)
        # Given solved tickets whose customers all wrote the same vague complaints, told apart by the ERP alone
        solved = []
        for i in range(28):
            body = COMPLAINTS[(i // 2) % len(COMPLAINTS)].format(order=orders[i])
            ticket = _create(
                django_capture_on_commit_callbacks, workspace, contact, body, category=categories[kinds[i]]
            )
            ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=Actor.system())
            solved.append(ticket)
        # (one of them a person corrected: it still weighs double)
        Prediction.objects.create(
            workspace=workspace,
            ticket=solved[0],
            field="category",
            value=categories["payment"].pk,
            status=PredictionStatus.OVERRIDDEN,
            human_value=categories["shipping"].pk,
            model_name="m",
            model_version="v0",
        )
        assert TriageRun.objects.filter(ticket__in=solved, step="enrichment", status="succeeded").count() == 28

        # When the category model is trained
        result = training.model_train(actor=Actor.system(), workspace=workspace, field_name="category")
        mv = result.model_version
        assert result.activated and mv is not None
        assert mv.metrics["with_facts"] == 28 and mv.metrics["overridden"] == 1
        examples = training.training_examples(workspace=workspace, field_name="category")
        assert sorted(examples.weights) == [1.0] * 27 + [training.OVERRIDE_WEIGHT]

        # Then new tickets with the same vague words are classified by what the ERP says about their order
        for i in range(28, len(kinds)):
            body = COMPLAINTS[i % len(COMPLAINTS)].format(order=orders[i])
            ticket = _create(django_capture_on_commit_callbacks, workspace, contact, body)
            prediction = Prediction.objects.get(ticket=ticket, field="category")
            assert prediction.value == categories[kinds[i]].pk, (kinds[i], body)
            assert prediction.status == PredictionStatus.APPLIED and ticket.category_id == categories[kinds[i]].pk

    # and the out-of-scope check learnt the customers' words only: a fact's words are not in its vocabulary
    model = training.load_model(mv)
    assert "扣款" not in model.scope_features.vocabulary_ and "订单" in model.scope_features.vocabulary_
    assert mv.metrics["out_of_scope_rate"] == 0.0


@pytest.mark.django_db
def test_sentiment_trains_on_the_customer_s_words_and_the_fields_on_the_facts_too(workspace, contact):
    # Given solved tickets with a stored enrichment run each, and a person's sentiment on each
    category = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="shipping")
    for i in range(3):
        ticket = make_ticket(workspace=workspace, requester=contact, subject=f"#{i}", body="太慢了", category=category)
        ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=Actor.system())
        TriageRun.objects.create(
            workspace=workspace,
            ticket=ticket,
            step="enrichment",
            status="succeeded",
            output={"extra_text": ["物流: 运输延误"]},
        )
        Prediction.objects.create(
            workspace=workspace,
            ticket=ticket,
            field="sentiment",
            value="neutral",
            status=PredictionStatus.OVERRIDDEN,
            human_value="angry",
            model_name="lexicon-sentiment",
            model_version="1",
        )
    # When their training examples are built
    mood = training.training_examples(workspace=workspace, field_name="sentiment")
    kind = training.training_examples(workspace=workspace, field_name="category")
    # Then sentiment reads what the customer wrote (as the sentiment step does), the category the fact too
    assert mood.texts == ["#0\n太慢了", "#1\n太慢了", "#2\n太慢了"] and mood.with_facts == 0
    assert kind.texts == [f"{t}\n物流: 运输延误" for t in mood.texts] and kind.scope_texts == mood.texts
    assert kind.with_facts == 3 and mood.weights == [training.OVERRIDE_WEIGHT] * 3
