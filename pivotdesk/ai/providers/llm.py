"""The optional LLM provider: any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, DeepSeek, Qwen, OpenAI).

Off unless a base URL is configured (PIVOTDESK_LLM_BASE_URL, or a workspace's settings["ai"]["llm"]). One call
asks for structured output (`chat.completions.parse` with a JSON schema); a server that rejects json_schema gets
JSON mode plus the schema in the prompt, validated here with pydantic. The SDK retries 408/409/429/5xx with
exponential back-off (honouring Retry-After). Every call — successful or not — is logged as an LLMCall row with
tokens, cost, latency and outcome; this module is the only writer of LLMCall.

Per-workspace overrides (workspace.settings["ai"]["llm"], every key optional):
    enabled (false turns the LLM off for the workspace), base_url, model, timeout_seconds, max_retries,
    price_per_1k ([prompt, completion] USD per 1,000 tokens), mode ("json_schema" | "json_object"),
    api_key_secret (an encrypt_json({"api_key": …}) token: keys are never stored in clear).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, cast

import openai
import pydantic
from django.conf import settings
from openai.types.chat import ChatCompletionMessageParam

from pivotdesk.accounts.models import Workspace
from pivotdesk.ai.models import LLMCall
from pivotdesk.common import egress
from pivotdesk.common.config_cache import workspace_config
from pivotdesk.common.crypto import decrypt_json

log = logging.getLogger(__name__)

MODE_JSON_SCHEMA = "json_schema"
MODE_JSON_OBJECT = "json_object"
DEFAULT_MAX_RETRIES = 2
MAX_ERROR_CHARS = 2000
# Base URLs seen rejecting response_format json_schema in this process: go straight to JSON mode next time.
_NO_JSON_SCHEMA: set[str] = set()
_UNSUPPORTED_HINTS = ("response_format", "json_schema", "structured output", "guided")
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)


class LLMError(Exception):
    """An LLM call failed (network, HTTP status after retries, or an answer that does not fit the schema).

    The failed call is already logged as an LLMCall row (ok=False) when this is raised."""

    def __init__(self, message: str, *, call_id: int | None = None) -> None:
        super().__init__(message)
        self.call_id = call_id


class LLMNotConfigured(LLMError):
    """No LLM endpoint is configured for this workspace."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to call the LLM for one workspace."""

    base_url: str
    model: str
    api_key: str = ""
    timeout_seconds: float = 30.0
    max_retries: int = DEFAULT_MAX_RETRIES
    price_prompt_per_1k: Decimal = Decimal(0)
    price_completion_per_1k: Decimal = Decimal(0)
    mode: str = MODE_JSON_SCHEMA


@dataclass(frozen=True)
class LLMUsage:
    """What one call cost: tokens, money, time; which model, mode and log row."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal
    latency_ms: int
    mode: str
    call_id: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMProvider(Protocol):
    """The small interface the AI services use: one structured-output call, validated and logged."""

    @property
    def model(self) -> str: ...

    def complete_json[T: pydantic.BaseModel](
        self,
        *,
        messages: list[dict[str, str]],
        schema: type[T],
        purpose: str,
        ticket_id: int | None,
        workspace_id: int,
        prompt_name: str = "",
        prompt_version: str = "",
    ) -> tuple[T, LLMUsage]: ...


def _price(value: Any) -> tuple[Decimal, Decimal]:
    try:
        prompt_price, completion_price = (Decimal(str(v)) for v in list(value)[:2])
    except (TypeError, ValueError, ArithmeticError):
        return Decimal(0), Decimal(0)
    return prompt_price, completion_price


def _overrides_in(ws_settings: Any) -> dict[str, Any]:
    """workspace.settings["ai"]["llm"] (a copy), or {} when absent or not an object."""
    ai = ws_settings.get("ai") if isinstance(ws_settings, dict) else None
    llm = ai.get("llm") if isinstance(ai, dict) else None
    return dict(llm) if isinstance(llm, dict) else {}


def _workspace_overrides(workspace_id: int) -> dict[str, Any]:
    """A workspace's LLM overrides through the per-process configuration cache (`common.config_cache`): triage asks
    for them on every ticket, and they change rarely (a change is seen within the cache's TTL, or at once where
    the writer invalidates the workspace's configuration)."""

    def load() -> dict[str, Any]:
        return _overrides_in(Workspace.objects.filter(pk=workspace_id).values_list("settings", flat=True).first())

    return dict(workspace_config(workspace_id, "llm_overrides", load))


def llm_config(*, workspace_id: int | None = None, workspace: Workspace | None = None) -> LLMConfig | None:
    """The LLM configuration for a workspace (settings, then its overrides); None when no endpoint is configured.

    A caller that has the workspace loaded passes it (its settings are read from it, no statement); by id, the
    overrides come from the per-process configuration cache."""
    if workspace is not None:
        overrides = _overrides_in(workspace.settings)
    elif workspace_id is not None:
        overrides = _workspace_overrides(workspace_id)
    else:
        overrides = {}
    if overrides.get("enabled") is False:
        return None
    base_url = str(overrides.get("base_url") or settings.PIVOTDESK_LLM_BASE_URL or "").strip()
    if not base_url:
        return None
    # The global key goes only to the globally configured endpoint: a workspace that points the LLM elsewhere
    # brings its own key (else anyone able to edit workspace settings could collect the operator's key).
    global_url = str(settings.PIVOTDESK_LLM_BASE_URL or "").strip().rstrip("/")
    api_key = str(settings.PIVOTDESK_LLM_API_KEY or "") if base_url.rstrip("/") == global_url else ""
    if overrides.get("api_key_secret"):
        api_key = str(decrypt_json(str(overrides["api_key_secret"])).get("api_key", ""))
    prompt_price, completion_price = _price(overrides.get("price_per_1k", settings.PIVOTDESK_LLM_PRICE_PER_1K))
    mode = str(overrides.get("mode") or MODE_JSON_SCHEMA)
    return LLMConfig(
        base_url=base_url.rstrip("/"),
        model=str(overrides.get("model") or settings.PIVOTDESK_LLM_MODEL or "default"),
        api_key=api_key,
        timeout_seconds=float(overrides.get("timeout_seconds") or settings.PIVOTDESK_LLM_TIMEOUT_SECONDS),
        max_retries=max(0, min(int(overrides.get("max_retries", DEFAULT_MAX_RETRIES)), 5)),
        price_prompt_per_1k=prompt_price,
        price_completion_per_1k=completion_price,
        mode=mode if mode in (MODE_JSON_SCHEMA, MODE_JSON_OBJECT) else MODE_JSON_SCHEMA,
    )


def llm_provider_for(*, workspace_id: int, workspace: Workspace | None = None) -> LLMProvider | None:
    """The workspace's LLM provider, or None when no LLM is configured (the local-only default). Pass the workspace
    when it is loaded: its settings are then read from it (`llm_config`)."""
    if workspace is not None and workspace.pk != workspace_id:
        raise ValueError("llm_provider_for: the workspace given is not workspace_id")
    config = llm_config(workspace_id=workspace_id, workspace=workspace)
    return OpenAICompatibleProvider(config) if config is not None else None


def complete_json[T: pydantic.BaseModel](
    *,
    messages: list[dict[str, str]],
    schema: type[T],
    purpose: str,
    ticket_id: int | None,
    workspace_id: int,
    prompt_name: str = "",
    prompt_version: str = "",
) -> tuple[T, LLMUsage]:
    """One structured call with the workspace's provider. Raises LLMNotConfigured without one, LLMError on failure."""
    provider = llm_provider_for(workspace_id=workspace_id)
    if provider is None:
        raise LLMNotConfigured("No LLM endpoint is configured (PIVOTDESK_LLM_BASE_URL).")
    return provider.complete_json(
        messages=messages,
        schema=schema,
        purpose=purpose,
        ticket_id=ticket_id,
        workspace_id=workspace_id,
        prompt_name=prompt_name,
        prompt_version=prompt_version,
    )


@functools.lru_cache(maxsize=16)
def _client(base_url: str, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    # One client (and connection pool) per endpoint and process; local servers accept any key.
    # Every call goes through the egress guard (a workspace's base URL must not reach internal services).
    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key or "none",
        timeout=timeout,
        max_retries=max_retries,
        http_client=egress.openai_http_client(timeout=timeout),
    )


def _unsupported_json_schema(exc: openai.APIStatusError) -> bool:
    if exc.status_code not in (400, 422, 501):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return any(hint in text for hint in _UNSUPPORTED_HINTS)


def _schema_instruction(schema: type[pydantic.BaseModel]) -> str:
    return (
        "Answer with a single JSON object and nothing else. It must validate against this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), ensure_ascii=False)
    )


def _unfence(content: str) -> str:
    match = _FENCE.match(content)
    return match.group(1) if match else content


def _usage_of(payload: Any) -> tuple[int, int]:
    usage = payload.get("usage") if isinstance(payload, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


@dataclass
class _Attempt:
    """What one request produced, before it is logged."""

    model: str
    mode: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""
    parsed: pydantic.BaseModel | None = None


class OpenAICompatibleProvider:
    """LLMProvider over the openai SDK, pointed at any OpenAI-compatible base URL."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config

    @property
    def model(self) -> str:
        return self.config.model

    def complete_json[T: pydantic.BaseModel](
        self,
        *,
        messages: list[dict[str, str]],
        schema: type[T],
        purpose: str,
        ticket_id: int | None,
        workspace_id: int,
        prompt_name: str = "",
        prompt_version: str = "",
    ) -> tuple[T, LLMUsage]:
        """Ask for one JSON object that validates against `schema`; log the call; raise LLMError on failure."""
        started = time.perf_counter()
        cfg = self.config
        client = _client(cfg.base_url, cfg.api_key, cfg.timeout_seconds, cfg.max_retries)
        structured = cfg.mode == MODE_JSON_SCHEMA and cfg.base_url not in _NO_JSON_SCHEMA
        attempt = _Attempt(model=cfg.model, mode=MODE_JSON_SCHEMA if structured else MODE_JSON_OBJECT)
        try:
            if structured:
                try:
                    self._structured(client, messages, schema, attempt)
                except openai.APIStatusError as exc:
                    if not _unsupported_json_schema(exc):
                        raise
                    log.info("LLM at %s rejects json_schema (%s); using JSON mode", cfg.base_url, exc.status_code)
                    _NO_JSON_SCHEMA.add(cfg.base_url)
                    attempt = _Attempt(model=cfg.model, mode=MODE_JSON_OBJECT)
                    self._json_mode(client, messages, schema, attempt)
            else:
                self._json_mode(client, messages, schema, attempt)
        except openai.APIStatusError as exc:
            attempt.error = f"HTTP {exc.status_code}: {exc.message}"
        except openai.APITimeoutError:
            attempt.error = f"timeout after {cfg.timeout_seconds:g} s"
        except openai.APIConnectionError as exc:
            attempt.error = f"connection failed: {exc}"
        except openai.OpenAIError as exc:  # length / content-filter finish reasons, …
            attempt.error = f"{type(exc).__name__}: {exc}"
        latency_ms = int((time.perf_counter() - started) * 1000)
        if attempt.parsed is None and not attempt.error:
            attempt.error = "empty answer"
        call = self._log(
            attempt,
            purpose=purpose,
            ticket_id=ticket_id,
            workspace_id=workspace_id,
            prompt_name=prompt_name,
            prompt_version=prompt_version,
            latency_ms=latency_ms,
        )
        if attempt.error or attempt.parsed is None:
            raise LLMError(f"LLM call for {purpose} failed: {attempt.error}", call_id=call.pk)
        usage = LLMUsage(
            model=attempt.model,
            prompt_tokens=attempt.prompt_tokens,
            completion_tokens=attempt.completion_tokens,
            cost=call.cost,
            latency_ms=latency_ms,
            mode=attempt.mode,
            call_id=call.pk,
        )
        return cast(T, attempt.parsed), usage

    def _structured(
        self, client: openai.OpenAI, messages: list[dict[str, str]], schema: type[pydantic.BaseModel], at: _Attempt
    ) -> None:
        raw = client.chat.completions.with_raw_response.parse(
            model=self.config.model,
            messages=cast(list[ChatCompletionMessageParam], messages),
            response_format=schema,
            temperature=0.2,
        )
        try:
            payload = json.loads(raw.text)
        except ValueError:
            payload = {}
        at.prompt_tokens, at.completion_tokens = _usage_of(payload)
        at.model = str(payload.get("model") or at.model) if isinstance(payload, dict) else at.model
        try:
            completion = raw.parse()
        except pydantic.ValidationError as exc:
            at.error = f"answer does not fit {schema.__name__}: {_short(exc)}"
            return
        message = completion.choices[0].message if completion.choices else None
        if message is not None and message.refusal:
            at.error = f"refused: {message.refusal}"
            return
        at.parsed = message.parsed if message is not None else None

    def _json_mode(
        self, client: openai.OpenAI, messages: list[dict[str, str]], schema: type[pydantic.BaseModel], at: _Attempt
    ) -> None:
        with_schema = [
            {"role": "system", "content": _schema_instruction(schema)},
            *messages,
        ]
        completion = client.chat.completions.create(
            model=self.config.model,
            messages=cast(list[ChatCompletionMessageParam], with_schema),
            response_format={"type": "json_object"},
            temperature=0.2,
        )
        if completion.usage is not None:
            at.prompt_tokens = completion.usage.prompt_tokens
            at.completion_tokens = completion.usage.completion_tokens
        at.model = completion.model or at.model
        content = completion.choices[0].message.content if completion.choices else None
        if not content:
            at.error = "empty answer"
            return
        try:
            at.parsed = schema.model_validate_json(_unfence(content))
        except pydantic.ValidationError as exc:
            at.error = f"answer does not fit {schema.__name__}: {_short(exc)}"

    def _log(
        self,
        at: _Attempt,
        *,
        purpose: str,
        ticket_id: int | None,
        workspace_id: int,
        prompt_name: str,
        prompt_version: str,
        latency_ms: int,
    ) -> LLMCall:
        cost = (
            Decimal(at.prompt_tokens) * self.config.price_prompt_per_1k
            + Decimal(at.completion_tokens) * self.config.price_completion_per_1k
        ) / 1000
        call = LLMCall.objects.create(
            workspace_id=workspace_id,
            ticket_id=ticket_id,
            purpose=purpose[:32],
            model=at.model[:120],
            prompt_name=prompt_name[:64],
            prompt_version=prompt_version[:32],
            prompt_tokens=at.prompt_tokens,
            completion_tokens=at.completion_tokens,
            cost=cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP),
            latency_ms=latency_ms,
            ok=not at.error and at.parsed is not None,
            error=at.error[:MAX_ERROR_CHARS],
        )
        log.info(
            "LLM %s via %s (%s): %s+%s tokens, %d ms, %s",
            purpose,
            at.model,
            at.mode,
            at.prompt_tokens,
            at.completion_tokens,
            latency_ms,
            "ok" if call.ok else at.error,
        )
        return call


def _short(exc: pydantic.ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return str(exc)[:500]
    where = ".".join(str(p) for p in errors[0]["loc"]) or "answer"
    return f"{len(errors)} error(s); {where}: {errors[0]['msg']}"[:500]
