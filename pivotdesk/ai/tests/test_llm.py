"""The optional LLM path against a local peer speaking the OpenAI chat-completions wire format (nothing mocked)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pivotdesk.ai.domain.steps import Entity, TriageInput
from pivotdesk.ai.models import LLMCall
from pivotdesk.ai.prompts import load_prompt
from pivotdesk.ai.providers import llm as provider
from pivotdesk.ai.services.llm import TriageDigest, summary_step
from pivotdesk.ai.tests.llm_peer import LLMPeer
from pivotdesk.common.crypto import encrypt_json

DIGEST = {
    "summary": "客户的订单 SO-20240518-001 物流停滞三天，要求尽快送达。",
    "intent": "delivery_delay",
    "order_numbers": ["SO-20240518-001", "SF1234567890"],
    "device_models": ["X200"],
    "draft_reply": "您好，我们已查询您的订单 SO-20240518-001，包裹目前在分拣中心，我们会尽快为您跟进。",
}


@pytest.fixture(autouse=True)
def _fresh_provider_state():
    """Ports are reused between tests: forget pooled clients and endpoints known to lack json_schema."""
    provider._client.cache_clear()
    provider._NO_JSON_SCHEMA.clear()
    yield
    provider._client.cache_clear()


@pytest.fixture
def peer():
    with LLMPeer() as p:
        p.reply = dict(DIGEST)
        yield p


@pytest.fixture
def llm(settings, peer):
    settings.PIVOTDESK_LLM_BASE_URL = peer.base_url
    settings.PIVOTDESK_LLM_API_KEY = "sk-test"
    settings.PIVOTDESK_LLM_MODEL = "qwen2.5-7b-instruct"
    settings.PIVOTDESK_LLM_TIMEOUT_SECONDS = 5.0
    settings.PIVOTDESK_LLM_PRICE_PER_1K = [0.5, 1.5]
    return peer


def _input(ticket, **kw):
    values = {
        "workspace_id": ticket.workspace_id,
        "ticket_id": ticket.pk,
        "subject": "物流太慢",
        "text": "我的订单 SO-20240518-001 三天没动了，顺丰单号 SF1234567890，X200 是给孩子的生日礼物。",
        "language": "zh",
        "channel": "email",
        "extra_text": ["物流: 运输延误, 最后节点 上海分拣中心"],
    }
    values.update(kw)
    return TriageInput(**values)


def test_without_a_base_url_the_step_is_skipped(settings, ticket):
    # Given no LLM endpoint (the default)
    settings.PIVOTDESK_LLM_BASE_URL = ""
    # When the summary step runs, then it yields nothing and logs nothing
    assert summary_step(_input(ticket)) is None
    assert not LLMCall.objects.exists()


def test_a_workspace_can_turn_the_llm_off(llm, ticket):
    ticket.workspace.settings = {"ai": {"llm": {"enabled": False}}}
    ticket.workspace.save()
    assert summary_step(_input(ticket)) is None
    assert llm.completions == []


def test_summary_draft_and_extraction_check_with_a_logged_call(llm, ticket):
    # Given local extraction found the order number and a phone, but not the tracking number or the device
    local = [Entity(kind="order", value="SO-20240518-001"), Entity(kind="phone", value="138****0000")]

    # When the summary step runs against the peer
    out = summary_step(_input(ticket), entities=local)

    # Then summary, draft and the cross-check come back
    assert out is not None
    assert out.data["summary"] == DIGEST["summary"]
    assert out.data["draft_reply"].startswith("您好")
    check = out.data["extraction_check"]
    assert check["order_numbers"]["agreed"] == ["SO-20240518-001"]
    assert check["order_numbers"]["llm_only"] == ["SF1234567890"]
    assert check["device_models"]["llm_only"] == ["X200"]
    assert check["intent"] == "delivery_delay"
    assert check["agrees"] is False and check["disagreements"] == 2
    # identifiers only the LLM saw (and that occur in the text) become entities with source "llm"
    assert {(e.kind, e.value, e.source) for e in out.entities} == {
        ("order", "SF1234567890", "llm"),
        ("device_model", "X200", "llm"),
    }
    assert out.model_name == "llm:qwen2.5-7b-instruct"
    assert out.model_version == "triage_summary@" + load_prompt("triage_summary").version

    # and the request asked for structured output with the schema, in the customer's language, with the facts
    (request,) = llm.completions
    body = request.json
    assert request.headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "qwen2.5-7b-instruct"
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "TriageDigest" and schema["strict"] is True
    assert set(schema["schema"]["required"]) == set(TriageDigest.model_fields)
    system, user = body["messages"]
    assert "简体中文" in system["content"]
    assert "SO-20240518-001" in user["content"] and "上海分拣中心" in user["content"]
    assert "order: SO-20240518-001" in user["content"]

    # and one LLMCall row holds tokens, cost (0.5 and 1.5 USD per 1K), latency and the prompt version
    call = LLMCall.objects.get()
    assert call.ok and call.error == ""
    assert (call.prompt_tokens, call.completion_tokens) == (120, 45)
    assert call.cost == Decimal("0.127500")  # 120/1000*0.5 + 45/1000*1.5
    assert call.purpose == "summary" and call.ticket_id == ticket.pk and call.workspace_id == ticket.workspace_id
    assert (call.prompt_name, call.prompt_version) == ("triage_summary", out.data["prompt"]["version"])
    assert call.model == "qwen2.5-7b-instruct"
    assert out.data["usage"]["llm_call_id"] == call.pk


def test_stored_entities_are_the_default_for_the_cross_check(llm, ticket):
    from pivotdesk.ai.models import ExtractedEntity

    ExtractedEntity.objects.create(
        workspace=ticket.workspace, ticket=ticket, kind="order_number", value="SO-20240518-001"
    )
    ExtractedEntity.objects.create(workspace=ticket.workspace, ticket=ticket, kind="device_model", value="X 200")
    out = summary_step(_input(ticket))
    check = out.data["extraction_check"]
    assert check["order_numbers"]["agreed"] == ["SO-20240518-001"]
    assert check["device_models"]["agreed"] == ["X 200"]  # spacing and case do not matter


def test_invented_identifiers_are_reported_but_not_kept(llm, ticket):
    llm.reply = DIGEST | {"order_numbers": ["SO-20240518-001", "SO-99999"], "device_models": []}
    out = summary_step(_input(ticket), entities=[])
    assert out.data["extraction_check"]["order_numbers"]["llm_ungrounded"] == ["SO-99999"]
    assert [e.value for e in out.entities] == ["SO-20240518-001"]


def test_english_ticket_asks_for_an_english_reply(llm, ticket):
    summary_step(_input(ticket, subject="Parcel late", text="Order SO-1 has not moved.", language="en"), entities=[])
    system, user = llm.completions[0].json["messages"]
    assert "Write it in English." in system["content"]
    assert "Customer language: English" in user["content"]


def test_429_then_success_is_retried(llm, ticket):
    # Given the server is rate limited once (with Retry-After-Ms)
    llm.fail_next(429, retry_after_ms=20)
    # When the step runs, then the SDK backs off, retries, and the step succeeds with one logged call
    out = summary_step(_input(ticket), entities=[])
    assert out is not None
    assert len(llm.completions) == 2
    call = LLMCall.objects.get()
    assert call.ok and call.prompt_tokens == 120


def test_persistent_5xx_is_a_logged_failure(llm, ticket):
    from pivotdesk.ai.providers.llm import LLMError

    llm.fail_next(500, times=3, retry_after_ms=10)
    with pytest.raises(LLMError, match="HTTP 500") as raised:
        summary_step(_input(ticket), entities=[])
    assert len(llm.completions) == 3  # the first try and two retries
    call = LLMCall.objects.get()
    assert not call.ok and "HTTP 500" in call.error
    assert raised.value.call_id == call.pk


def test_invalid_json_content_is_a_logged_failure_that_raises(llm, ticket):
    from pivotdesk.ai.providers.llm import LLMError

    # Given the model answers prose instead of the JSON object
    llm.content = "好的，这是摘要：客户的包裹延误了。"
    # When the step runs, then it raises (the pipeline retries, then marks the step failed) ...
    with pytest.raises(LLMError, match="does not fit TriageDigest"):
        summary_step(_input(ticket), entities=[])
    # ... and the failed call is logged with the tokens it still cost
    call = LLMCall.objects.get()
    assert not call.ok
    assert call.prompt_tokens == 120 and call.cost > 0
    assert "TriageDigest" in call.error


def test_json_missing_a_field_is_a_failure(llm, ticket):
    from pivotdesk.ai.providers.llm import LLMError

    llm.reply = {k: v for k, v in DIGEST.items() if k != "draft_reply"}
    with pytest.raises(LLMError):
        summary_step(_input(ticket), entities=[])
    assert LLMCall.objects.get().ok is False


def test_server_without_json_schema_falls_back_to_json_mode(llm, ticket):
    # Given a server that rejects response_format json_schema (as DeepSeek does) and fences its JSON
    llm.reject_json_schema = True
    llm.content = "```json\n" + __import__("json").dumps(DIGEST, ensure_ascii=False) + "\n```"
    # When the step runs
    out = summary_step(_input(ticket), entities=[])
    # Then the second request used JSON mode with the schema in the prompt, and the answer was validated
    assert out is not None and out.data["summary"] == DIGEST["summary"]
    first, second = llm.completions
    assert first.json["response_format"]["type"] == "json_schema"
    assert second.json["response_format"] == {"type": "json_object"}
    assert "draft_reply" in second.json["messages"][0]["content"]
    assert out.data["usage"]["mode"] == "json_object"
    # and the next call goes straight to JSON mode
    summary_step(_input(ticket), entities=[])
    assert llm.completions[2].json["response_format"] == {"type": "json_object"}
    assert LLMCall.objects.filter(ok=True).count() == 2


def test_truncated_answer_is_a_failure(llm, ticket):
    from pivotdesk.ai.providers.llm import LLMError

    llm.finish_reason = "length"
    with pytest.raises(LLMError, match="LengthFinishReasonError"):
        summary_step(_input(ticket), entities=[])
    call = LLMCall.objects.get()
    assert not call.ok and call.completion_tokens == 45


def test_unreachable_endpoint_is_a_logged_failure(settings, ticket):
    from pivotdesk.ai.providers.llm import LLMError

    with LLMPeer() as gone:
        url = gone.base_url
    settings.PIVOTDESK_LLM_BASE_URL = url
    ticket.workspace.settings = {"ai": {"llm": {"max_retries": 0}}}
    ticket.workspace.save()
    with pytest.raises(LLMError, match="connection failed"):
        summary_step(_input(ticket), entities=[])
    assert LLMCall.objects.get().ok is False


def test_workspace_overrides_endpoint_model_key_and_price(settings, peer, ticket):
    # Given no global LLM, but a workspace with its own endpoint, model, encrypted key and price
    settings.PIVOTDESK_LLM_BASE_URL = ""
    ticket.workspace.settings = {
        "ai": {
            "llm": {
                "base_url": peer.base_url,
                "model": "deepseek-chat",
                "api_key_secret": encrypt_json({"api_key": "sk-workspace"}),
                "price_per_1k": [1, 2],
            }
        }
    }
    ticket.workspace.save()
    peer.model = "deepseek-chat"
    out = summary_step(_input(ticket), entities=[])
    assert out is not None
    request = peer.completions[0]
    assert request.json["model"] == "deepseek-chat"
    assert request.headers["authorization"] == "Bearer sk-workspace"
    assert LLMCall.objects.get().cost == Decimal("0.210000")  # 0.12 + 0.09


def test_the_global_key_is_never_sent_to_a_workspace_defined_base_url(settings, peer, ticket):
    # Given a global endpoint with the operator's key, and a workspace pointing the LLM at its own URL without a key
    settings.PIVOTDESK_LLM_BASE_URL = "https://llm.operator.example/v1"
    settings.PIVOTDESK_LLM_API_KEY = "sk-operator"
    ticket.workspace.settings = {"ai": {"llm": {"base_url": peer.base_url, "max_retries": 0}}}
    ticket.workspace.save()

    # When the workspace's LLM is called
    summary_step(_input(ticket), entities=[])

    # Then the workspace's endpoint got the call, but not the operator's key
    assert peer.completions
    assert "sk-operator" not in peer.completions[0].headers.get("authorization", "")


def test_the_global_key_goes_to_the_global_base_url(settings, peer, ticket):
    settings.PIVOTDESK_LLM_BASE_URL = peer.base_url + "/"
    settings.PIVOTDESK_LLM_API_KEY = "sk-operator"
    ticket.workspace.settings = {"ai": {"llm": {"base_url": peer.base_url, "max_retries": 0}}}
    ticket.workspace.save()

    summary_step(_input(ticket), entities=[])

    assert peer.completions[0].headers["authorization"] == "Bearer sk-operator"
