"""The LLM step of triage: an abstractive summary, a cross-check of local extraction, and a draft reply.

`summary_step` returns None when no LLM is configured (the pipeline then keeps the local extractive summary). With
one, it makes a single structured call (prompt `triage_summary`, versioned) and returns StepOutput.data with
"summary", "draft_reply" and "extraction_check". On failure it raises LLMError after the failed call is logged as
an LLMCall row: the pipeline retries the step and then marks it failed. Run it outside a database transaction,
so the log row of a failed call is kept (and no connection is held while the model thinks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pydantic

from pivotdesk.ai.domain.steps import Entity, StepOutput, TriageInput
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.ai.prompts import load_prompt
from pivotdesk.ai.providers.llm import LLMError, llm_provider_for

__all__ = ["LLMError", "TriageDigest", "extraction_check", "summary_step"]

PROMPT_NAME = "triage_summary"
PURPOSE = "summary"
# Keep prompts bounded: the newest part of a long thread matters most (text is oldest first).
MAX_TEXT_CHARS = 8000
MAX_FACTS_CHARS = 2000
# Entity kinds of local extraction that the LLM's lists are compared with.
ORDER_KINDS = frozenset({"order", "order_number", "order_id", "shipment", "tracking", "tracking_number", "waybill"})
DEVICE_KINDS = frozenset({"device", "device_model", "model", "product_model"})
# Kinds given to identifiers only the LLM found (and that do occur in the text).
LLM_ORDER_KIND = "order"
LLM_DEVICE_KIND = "device_model"
LLM_ENTITY_CONFIDENCE = 0.6

LANGUAGE_NAMES = {
    "zh": "简体中文 (Simplified Chinese)",
    "zh-hans": "简体中文 (Simplified Chinese)",
    "zh-cn": "简体中文 (Simplified Chinese)",
    "zh-hant": "繁體中文 (Traditional Chinese)",
    "zh-tw": "繁體中文 (Traditional Chinese)",
    "en": "English",
    "ja": "日本語 (Japanese)",
    "ko": "한국어 (Korean)",
}


class TriageDigest(pydantic.BaseModel):
    """What the LLM answers (every field required: strict structured output)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    summary: str
    intent: str
    order_numbers: list[str]
    device_models: list[str]
    draft_reply: str


def language_name(code: str) -> str:
    """A readable name of a language code for the prompt ("" → the language of the ticket)."""
    code = (code or "").strip().lower()
    if not code:
        return "the language the customer wrote in / 客户使用的语言"
    return LANGUAGE_NAMES.get(code) or LANGUAGE_NAMES.get(code.split("-")[0]) or code


def _key(value: str) -> str:
    """Comparison key of an identifier: letters and digits only, case-folded ("SF 1234-56" == "sf123456")."""
    return re.sub(r"[\W_]+", "", value).casefold()


def _compare(llm_values: Iterable[str], local_values: Iterable[str], text_key: str) -> dict[str, list[str]]:
    llm = {_key(v): v.strip() for v in llm_values if _key(v)}
    local = {_key(v): v.strip() for v in local_values if _key(v)}
    llm_only = [v for k, v in llm.items() if k not in local]
    return {
        "agreed": [v for k, v in local.items() if k in llm],
        "local_only": [v for k, v in local.items() if k not in llm],
        # Found by the LLM and present in the text (grounded) vs. not in the text at all (likely invented).
        "llm_only": [v for v in llm_only if _key(v) in text_key],
        "llm_ungrounded": [v for v in llm_only if _key(v) not in text_key],
    }


def extraction_check(digest: TriageDigest, local: list[Entity], text: str) -> dict[str, Any]:
    """Compare the LLM's identifiers with local extraction: what both found, what only one found."""
    text_key = _key(text)
    orders = _compare(digest.order_numbers, [e.value for e in local if e.kind in ORDER_KINDS], text_key)
    devices = _compare(digest.device_models, [e.value for e in local if e.kind in DEVICE_KINDS], text_key)
    disagreements = sum(len(part[key]) for part in (orders, devices) for key in ("local_only", "llm_only"))
    return {
        "order_numbers": orders,
        "device_models": devices,
        "intent": digest.intent.strip(),
        "agrees": disagreements == 0,
        "disagreements": disagreements,
    }


def _local_entities(inp: TriageInput) -> list[Entity]:
    rows = ExtractedEntity.objects.filter(workspace_id=inp.workspace_id, ticket_id=inp.ticket_id).order_by("pk")
    return [
        Entity(kind=r.kind, value=r.value, raw=r.raw, source=r.source, confidence=r.confidence)
        for r in rows.only("kind", "value", "raw", "source", "confidence")
    ]


def _tail(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def summary_step(inp: TriageInput, entities: list[Entity] | None = None) -> StepOutput | None:
    """Summary, extraction cross-check and draft reply by the workspace's LLM; None when no LLM is configured.

    `entities` are what local extraction found (default: the ticket's stored ExtractedEntity rows). Raises LLMError
    when the call fails or the answer does not fit the schema (the failed call is logged first)."""
    provider = llm_provider_for(workspace_id=inp.workspace_id)
    if provider is None:
        return None
    local = _local_entities(inp) if entities is None else list(entities)
    prompt = load_prompt(PROMPT_NAME)
    messages = prompt.messages(
        subject=inp.subject.strip() or "-",
        text=_tail(inp.text, MAX_TEXT_CHARS) or "-",
        language=inp.language or "",
        language_name=language_name(inp.language),
        # Attachment text first, connector facts last: when the whole is cut, the short facts are kept.
        facts=_tail("\n".join(t.strip() for t in [*inp.extra_text, *inp.facts] if t.strip()), MAX_FACTS_CHARS) or "-",
        entities="\n".join(f"{e.kind}: {e.value}" for e in local) or "-",
        channel=inp.channel or "-",
        customer_tier=inp.customer_tier or "-",
    )
    digest, usage = provider.complete_json(
        messages=messages,
        schema=TriageDigest,
        purpose=PURPOSE,
        ticket_id=inp.ticket_id,
        workspace_id=inp.workspace_id,
        prompt_name=prompt.name,
        prompt_version=prompt.version,
    )
    check = extraction_check(digest, local, inp.full_text)
    found = [(LLM_ORDER_KIND, v) for v in check["order_numbers"]["llm_only"]]
    found += [(LLM_DEVICE_KIND, v) for v in check["device_models"]["llm_only"]]
    return StepOutput(
        model_name=f"llm:{usage.model}",
        model_version=f"{prompt.name}@{prompt.version}",
        entities=[Entity(kind=k, value=v, raw=v, source="llm", confidence=LLM_ENTITY_CONFIDENCE) for k, v in found],
        data={
            "summary": digest.summary.strip(),
            "draft_reply": digest.draft_reply.strip(),
            "extraction_check": check,
            "intent": digest.intent.strip(),
            "prompt": {"name": prompt.name, "version": prompt.version},
            "usage": {
                "llm_call_id": usage.call_id,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "cost": str(usage.cost),
                "latency_ms": usage.latency_ms,
                "mode": usage.mode,
            },
        },
    )
