"""The enrichment step: ask the workspace's connectors what an extracted number refers to.

For every active connector whose entity kind matches an extracted entity, call its URL (timeout, no redirects,
bounded answer size), pick the configured fields and render its summary template. The rendered facts go to
StepOutput.extra_text (so the classifier and the agent read "物流: 运输延误, 最后节点 上海分拣中心", not only
"物流太慢"); StepOutput.data["facts"] holds one fact per successful lookup (kind, value, connector, summary,
fields: attached to the entity and shown on the ticket) and StepOutput.data["enrichment"] the result of every lookup
per entity. A failing connector (HTTP error, timeout, oversize or non-JSON answer, undecryptable secrets) is recorded
as a failed lookup, never raised: one broken ERP must not block triage. Classification waits for this step, so all
lookups of a ticket share one time budget (BUDGET_SECONDS); what is left when it is spent is skipped, not waited for.
"""

from __future__ import annotations

import json
import logging
import string
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from pivotdesk.ai import selectors
from pivotdesk.ai.domain.steps import Entity, StepOutput, TriageInput
from pivotdesk.ai.models import Connector
from pivotdesk.ai.services.connectors import ENTITY_PLACEHOLDER, MAX_FIELDS, connector_secrets
from pivotdesk.common import egress

log = logging.getLogger(__name__)

MODEL_NAME = "connectors"
MODEL_VERSION = "1"
USER_AGENT = "PivotDesk-Enrichment/1"
MAX_RESPONSE_BYTES = 256 * 1024
MAX_LOOKUPS = 10  # per ticket: a message listing fifty order numbers must not hammer the ERP
BUDGET_SECONDS = 10.0  # per ticket, all lookups together (each connector's own timeout still applies)
MIN_LOOKUP_SECONDS = 0.2  # less budget than this left: the lookup is skipped rather than sure to time out
MAX_VALUE_CHARS = 200
MAX_SUMMARY_CHARS = 500
MISSING_TEXT = "?"
_MISSING = object()


class LookupFailed(Exception):
    """Why one lookup gave nothing (recorded, never raised out of the step)."""


@dataclass
class LookupResult:
    """One connector's answer about one entity value."""

    connector: str
    connector_id: int
    ok: bool
    status_code: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    error: str = ""
    duration_ms: int = 0


def resolve(data: Any, path: str) -> Any:
    """The value at a dotted path (`tracking.last_node`, `items.0.sku`), or _MISSING."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _text(value: Any) -> str:
    """A one-line, bounded rendering of an answer's value (the answer is untrusted input)."""
    if value is _MISSING or value is None:
        return MISSING_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def pick_fields(data: Any, paths: list[str]) -> dict[str, Any]:
    """The configured fields of an answer (missing ones left out); without paths, its top-level scalar fields."""
    if not paths:
        if not isinstance(data, dict):
            return {}
        scalars = {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool)) or v is None}
        return dict(list(scalars.items())[:MAX_FIELDS])
    picked: dict[str, Any] = {}
    for path in paths:
        value = resolve(data, path)
        if value is not _MISSING:
            picked[path] = value
    return picked


def render_summary(connector: Connector, data: Any, picked: dict[str, Any], value: str) -> str:
    """The connector's summary template filled from the answer (`{entity}` is the looked-up value)."""
    template = connector.summary_template
    if not template:
        shown = ", ".join(f"{k}: {_text(v)}" for k, v in picked.items()) or MISSING_TEXT
        return f"{connector.name} {value}: {shown}"[:MAX_SUMMARY_CHARS]
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        found = resolve(data, name)
        if found is _MISSING and name == ENTITY_PLACEHOLDER:
            found = value
        out.append(_text(found))
    return "".join(out)[:MAX_SUMMARY_CHARS]


def _fetch(
    client: httpx.Client, connector: Connector, kind: str, value: str, timeout: float | None = None
) -> tuple[int, Any]:
    """One request (within `timeout` seconds, default the connector's); the status code and the parsed JSON answer,
    or LookupFailed."""
    try:
        secrets = connector_secrets(connector)
    except ValueError as exc:
        raise LookupFailed(str(exc)) from exc
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **connector.headers, **secrets}
    url = connector.url_template.format(value=quote(value, safe=""))
    body = {"kind": kind, "value": value} if connector.method == "POST" else None
    timeout = float(connector.timeout_seconds) if timeout is None else min(timeout, float(connector.timeout_seconds))
    deadline = time.monotonic() + timeout
    try:
        with client.stream(connector.method, url, headers=headers, json=body, timeout=timeout) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise LookupFailed(f"answer too large ({int(declared)} bytes > {MAX_RESPONSE_BYTES})")
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > MAX_RESPONSE_BYTES:
                    raise LookupFailed(f"answer too large (> {MAX_RESPONSE_BYTES} bytes)")
                if time.monotonic() > deadline:
                    raise LookupFailed(f"timeout after {timeout:g} s")
            status = response.status_code
    except httpx.TimeoutException as exc:
        raise LookupFailed(f"timeout after {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise LookupFailed(f"{type(exc).__name__}: {exc}"[:500]) from exc
    if status == 404:
        raise LookupFailed("not found (HTTP 404)")
    if not 200 <= status < 300:
        raise LookupFailed(f"HTTP {status}")
    try:
        return status, json.loads(bytes(content))
    except ValueError as exc:
        raise LookupFailed("answer is not JSON") from exc


def connector_lookup(
    connector: Connector, *, kind: str, value: str, client: httpx.Client | None = None, timeout: float | None = None
) -> LookupResult:
    """Ask one connector about one value (within `timeout` seconds when given, and never longer than the
    connector's own timeout); never raises for trouble with the remote side."""
    started = time.perf_counter()
    result = LookupResult(connector=connector.name, connector_id=connector.pk, ok=False)
    own_client = client is None
    http = client or egress.guarded_client(follow_redirects=False)
    try:
        result.status_code, data = _fetch(http, connector, kind, value, timeout)
        result.fields = pick_fields(data, list(connector.fields))
        result.summary = render_summary(connector, data, result.fields, value)
        result.ok = True
    except LookupFailed as exc:
        result.error = str(exc)
    except Exception as exc:  # a bug or an odd answer must not break triage; it is recorded instead
        log.exception("connector %s failed on %s %s", connector.pk, kind, value)
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        if own_client:
            http.close()
    result.duration_ms = int((time.perf_counter() - started) * 1000)
    log.info(
        "connector %s (%s) on %s: %s in %d ms",
        connector.pk,
        connector.name,
        kind,
        "ok" if result.ok else result.error,
        result.duration_ms,
    )
    return result


class _LazyClient:
    """One guarded HTTP client for all lookups of a ticket, built at the first lookup (building one costs more CPU
    than the rest of triage: a ticket whose entities no connector handles never pays for it)."""

    def __init__(self) -> None:
        self.client: httpx.Client | None = None

    def get(self) -> httpx.Client:
        if self.client is None:
            self.client = egress.guarded_client(follow_redirects=False)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def enrichment_step(inp: TriageInput, entities: list[Entity]) -> StepOutput:
    """Look up the entities with the workspace's connectors: the rendered facts to extra_text, the facts and every
    lookup's result to data. The connectors come from the per-process configuration cache (no statement when warm);
    no HTTP client is built unless a connector handles one of the entities."""
    unique: dict[tuple[str, str], Entity] = {}
    for entity in entities:
        if entity.value.strip():
            unique.setdefault((entity.kind, entity.value.strip()), entity)
    kinds = {kind for kind, _ in unique}
    connectors = (
        [c for c in selectors.active_connectors(workspace_id=inp.workspace_id) if c.entity_kind in kinds]
        if kinds
        else []
    )
    out = StepOutput(model_name=MODEL_NAME, model_version=MODEL_VERSION)
    results: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    lookups = failed = skipped = 0
    http = _LazyClient()
    deadline: float | None = None
    try:
        for (kind, value), _entity in unique.items():
            matching = [c for c in connectors if c.entity_kind == kind]
            if not matching:
                continue
            client = http.get()
            deadline = deadline or time.monotonic() + BUDGET_SECONDS
            entry: dict[str, Any] = {"kind": kind, "value": value, "lookups": []}
            for connector in matching:
                left = deadline - time.monotonic()
                if lookups >= MAX_LOOKUPS or left < MIN_LOOKUP_SECONDS:
                    skipped += 1
                    why = "skipped: lookup limit" if lookups >= MAX_LOOKUPS else "skipped: time budget spent"
                    lookup = LookupResult(connector.name, connector.pk, ok=False, error=why)
                else:
                    lookups += 1
                    lookup = connector_lookup(connector, kind=kind, value=value, client=client, timeout=left)
                    if lookup.ok:
                        out.extra_text.append(lookup.summary)
                        facts.append(
                            {
                                "kind": kind,
                                "value": value,
                                "connector": connector.name,
                                "summary": lookup.summary,
                                "fields": lookup.fields,
                            }
                        )
                    else:
                        failed += 1
                entry["lookups"].append(asdict(lookup))
            results.append(entry)
    finally:
        http.close()
    out.data = {"facts": facts, "enrichment": results, "lookups": lookups, "failed": failed, "skipped": skipped}
    return out
