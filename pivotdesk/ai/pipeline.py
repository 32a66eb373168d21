"""The triage pipeline: runs the steps of STEP_ORDER on a ticket, records each as a TriageRun, applies the results.

Steps owned by other modules are found by name and imported lazily, so a module that is not there (yet) makes its
step "skipped" with the reason "not installed", never a crash:

    multimodal  pivotdesk.ai.services.multimodal.run_step(inp) -> StepOutput
    enrichment  pivotdesk.ai.services.enrichment.enrichment_step(inp, entities) -> StepOutput
    classify    pivotdesk.ai.services.training.classify_step(inp) -> StepOutput
    sentiment   pivotdesk.ai.services.training.sentiment_step(inp) -> StepOutput | None   (None → lexicon)
    summary     pivotdesk.ai.services.llm.summary_step(inp[, entities]) -> StepOutput | None  (None → extractive)

What a step finds is passed on to the later ones in memory: attachment text (multimodal) in `extra_text`, the
language, the entities (found now, plus those stored before), and the connectors' facts (enrichment) in `facts`,
which classification and the summary read. A step that is not run again (it succeeded before) passes on what it had
stored, so a re-run sees the same input.

Computing and writing are apart. Every step computes first, outside any transaction (OCR, an ERP or an LLM may take
seconds, and the log row of a failed LLM call must survive the failure); then everything is written in ONE
transaction (`write_results`): the step records in one bulk insert (or update), one ticket update with every field
and tag change (one timeline write set, one `ticket.updated`), predictions and entities in one bulk insert each.
A ticket without attachments is not read for them, and a workspace without connectors costs no HTTP client.

A step that raises is tried again (PIVOTDESK_AI_STEP_ATTEMPTS, default 2) and then recorded failed with the error;
the following steps still run and the ticket is never blocked. A step that succeeded for the same ticket and message
is not run again unless forced. Should the combined write fail, each step is written alone in its own transaction,
and a step whose findings cannot be applied is recorded failed with the reason, so the others still land.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import selectors
from pivotdesk.ai.domain import language as language_domain
from pivotdesk.ai.domain import sentiment_lexicon, summary
from pivotdesk.ai.domain import texts as texts_domain
from pivotdesk.ai.domain.entities import EntityConfig, extract_entities, mask_sensitive
from pivotdesk.ai.domain.steps import STEP_ORDER, Entity, FieldPrediction, StepOutput, TriageInput
from pivotdesk.ai.models import ExtractedEntity, StepStatus, TriageRun
from pivotdesk.ai.services import apply, runs
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
PIPELINE = Actor.system("triage")  # the pipeline stores what the models found; each change is made as the model

ENTRY_POINTS: dict[str, tuple[str, str]] = {
    "multimodal": ("pivotdesk.ai.services.multimodal", "run_step"),
    "enrichment": ("pivotdesk.ai.services.enrichment", "enrichment_step"),
    "classify": ("pivotdesk.ai.services.training", "classify_step"),
    "sentiment": ("pivotdesk.ai.services.training", "sentiment_step"),
    "summary": ("pivotdesk.ai.services.llm", "summary_step"),
}
ENTITIES_MODEL = ("entities", "1")
MAX_STORED_TEXT = 2000


class StepSkipped(Exception):
    """The step cannot run here (its module is not installed, no model is trained): recorded as skipped."""


def entry_point(step: str) -> Callable[..., Any] | None:
    """The function that implements an external step, or None when its module (or the function) is not there."""
    module_name, function = ENTRY_POINTS[step]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise  # the module is there but one of its own imports is broken: that is a failure, not "not installed"
    fn = getattr(module, function, None)
    return fn if callable(fn) else None


@dataclass
class TriageContext:
    """What the steps share while a ticket is triaged."""

    ticket: Ticket
    message_id: int | None
    inp: TriageInput
    config: selectors.AISettings
    attachments: list[selectors.AttachmentText] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    stored_entities: list[ExtractedEntity] = field(default_factory=list)  # rows from earlier triages

    @property
    def has_attachments(self) -> bool:
        return bool(getattr(self.ticket, "has_attachments", True))


# --- the steps -----------------------------------------------------------------------------------------------------
def _external(step: str, *args: Any, **kwargs: Any) -> StepOutput | None:
    fn = entry_point(step)
    if fn is None:
        raise StepSkipped("not installed")
    result = fn(*args, **kwargs)
    if result is not None and not isinstance(result, StepOutput):
        raise TypeError(f"{step} returned {type(result).__name__}, not StepOutput")
    return result


def step_multimodal(ctx: TriageContext) -> StepOutput | None:
    if entry_point("multimodal") is None:
        raise StepSkipped("not installed")
    if not ctx.has_attachments:  # nothing to read: the reader is not even asked
        return StepOutput(model_name="multimodal", data={"attachments": [], "already_read": [], "waiting": []})
    return _external("multimodal", ctx.inp)


def step_language(ctx: TriageContext) -> StepOutput:
    own_text = "\n".join([ctx.inp.subject, ctx.inp.text]).strip() or ctx.inp.full_text
    guess = language_domain.detect_language(own_text, ctx.inp.languages)
    out = StepOutput(model_name=language_domain.MODEL_NAME, model_version=language_domain.MODEL_VERSION)
    if guess is None:
        out.data = {"reason": "no text"}
        return out
    alternatives = tuple((c, s) for c, s in sorted(guess.shares.items(), key=lambda kv: -kv[1]) if c != guess.code)
    out.predictions = [
        FieldPrediction(
            field="language",
            value=guess.code,
            confidence=guess.confidence,
            model_name=out.model_name,
            model_version=out.model_version,
            label=guess.code,
            alternatives=alternatives,
        )
    ]
    out.data = {"mixed": guess.mixed, "shares": guess.shares}
    return out


def step_classify(ctx: TriageContext) -> StepOutput:
    out = _external("classify", ctx.inp)
    if out is None:
        raise StepSkipped("no model")
    return out


def step_entities(ctx: TriageContext) -> StepOutput:
    config = EntityConfig.from_settings(
        ctx.config.entities,
        catalog=selectors.entity_catalog(workspace_id=ctx.ticket.workspace_id, config=ctx.config),
    )
    text = "\n".join([ctx.inp.subject, ctx.inp.text])
    found: list[tuple[Entity, int | None]] = [(e, None) for e in extract_entities(text, config)]
    for item in ctx.attachments:
        found += [(e, item.attachment_id) for e in extract_entities(item.text, config, source=item.source)]
    return StepOutput(
        model_name=ENTITIES_MODEL[0],
        model_version=ENTITIES_MODEL[1],
        entities=[e for e, _ in found],
        data={"attachment_ids": [a for _, a in found]},
    )


def step_sentiment(ctx: TriageContext) -> StepOutput:
    try:
        out = _external("sentiment", ctx.inp)
    except StepSkipped:
        out = None
    if out is not None:
        return out
    score = sentiment_lexicon.score_sentiment("\n".join([ctx.inp.subject, ctx.inp.text]))  # the customer's words
    name, version = sentiment_lexicon.MODEL_NAME, sentiment_lexicon.MODEL_VERSION
    return StepOutput(
        model_name=name,
        model_version=version,
        predictions=[FieldPrediction("sentiment", score.label, score.confidence, name, version, label=score.label)],
        data={"score": score.score, "hits": list(score.hits), "fallback": True},
    )


def _takes_entities(fn: Callable[..., Any]) -> bool:
    try:
        return "entities" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def step_summary(ctx: TriageContext) -> StepOutput:
    fn = entry_point("summary")
    try:  # the entities found now are not stored yet: handed over in memory to a summary that reads them
        kwargs = {"entities": list(ctx.entities)} if fn is not None and _takes_entities(fn) else {}
        out = _external("summary", ctx.inp, **kwargs)
    except StepSkipped:
        out = None
    if out is None:
        text = summary.summarize(ctx.inp.subject, ctx.inp.text, facts=ctx.inp.facts)
        out = StepOutput(
            model_name=summary.MODEL_NAME,
            model_version=summary.MODEL_VERSION,
            data={"summary": text, "fallback": True},
        )
    if isinstance(out.data.get("summary"), str):
        out.data["summary"] = mask_sensitive(out.data["summary"])
    return out


def step_enrichment(ctx: TriageContext) -> StepOutput:
    out = _external("enrichment", ctx.inp, list(ctx.entities))
    if out is None:
        raise StepSkipped("nothing to enrich")
    return out


STEPS: dict[str, Callable[[TriageContext], StepOutput | None]] = {
    "multimodal": step_multimodal,
    "language": step_language,
    "entities": step_entities,
    "enrichment": step_enrichment,
    "classify": step_classify,
    "sentiment": step_sentiment,
    "summary": step_summary,
}


# --- passing findings on -------------------------------------------------------------------------------------------
def _entity_items(step: str, out: StepOutput) -> list[tuple[Entity, int | None]]:
    ids = out.data.get("attachment_ids") if step == "entities" else None
    attachment_ids = ids if isinstance(ids, list) and len(ids) == len(out.entities) else [None] * len(out.entities)
    return list(zip(out.entities, attachment_ids, strict=True))


def _after(ctx: TriageContext, step: str, out: StepOutput | None, run: TriageRun) -> None:
    """Carry what a step found to the following steps (also when it had run before and was not repeated)."""
    if step == "multimodal":
        read_now = out.extra_text if out is not None else []
        if ctx.has_attachments and not (out is not None and not read_now):
            ctx.attachments = selectors.attachment_texts(ticket=ctx.ticket)
        else:  # no attachment, or the reader found no text in any: nothing to read back
            ctx.attachments = []
        texts = read_now or [a.text for a in ctx.attachments]
        ctx.inp.extra_text = texts_domain.attachment_texts(texts)
    elif step == "language":
        predictions = (run.output or {}).get("predictions") or []
        if out is not None and out.predictions:
            ctx.inp.language = str(out.predictions[0].value)
        elif predictions:
            ctx.inp.language = str(predictions[0].get("value") or "")
        ctx.inp.language = ctx.inp.language or ctx.ticket.language
    elif step == "entities":
        _pass_entities(ctx, out)
    elif step == "enrichment":
        # Not run again (or skipped, or failed): what the stored run found, if it succeeded. Training reads the
        # stored facts the same way (pivotdesk.ai.services.training), so the models learn what triage shows them.
        stored = (run.output or {}).get("extra_text") if run.status == StepStatus.SUCCEEDED else None
        ctx.inp.facts = texts_domain.passed_facts(out.extra_text if out is not None else stored)


def _pass_entities(ctx: TriageContext, out: StepOutput | None) -> None:
    """What is stored (masked) plus what was found now, as it will be stored: what the old per-step write and
    re-read passed on, without the round trip."""
    ctx.entities = [apply.as_entity(e) for e in ctx.stored_entities]
    if out is None or not out.entities:
        return
    known = {(e.kind, e.value) for e in ctx.entities}
    for entity, _attachment in _entity_items("entities", out):
        value = mask_sensitive(entity.value)[:255]
        if (entity.kind, value) not in known:
            known.add((entity.kind, value))
            raw = entity.raw if mask_sensitive(entity.raw) == entity.raw else ""
            ctx.entities.append(dataclasses.replace(entity, value=value, raw=raw[:255], start=-1, end=-1))


def output_json(out: StepOutput) -> dict[str, Any]:
    """A step's output as stored on its run (JSON-safe; long texts cut; entities already masked)."""
    body = dataclasses.asdict(out)
    body["extra_text"] = [t[:MAX_STORED_TEXT] for t in out.extra_text]
    body["entities"] = [{k: v for k, v in e.items() if k not in ("start", "end")} for e in body["entities"]]
    safe: dict[str, Any] = json.loads(json.dumps(body, default=str, ensure_ascii=False))
    return safe


def _error_text(exc: BaseException) -> str:
    tail = "".join(traceback.format_exception(exc, limit=-3))
    return f"{type(exc).__name__}: {exc}\n{tail}"[:4000]


def attempts_allowed() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_AI_STEP_ATTEMPTS", 2)))


# --- computing ------------------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    """A step's outcome in memory: its record (written later) and, when it ran and succeeded, its output."""

    record: runs.StepRecord
    out: StepOutput | None = None
    unchanged: bool = False

    @property
    def outcome(self) -> str:
        return "unchanged" if self.unchanged else self.record.status


def run_step(ctx: TriageContext, step: str, *, force: bool = False, run: TriageRun | None = None) -> StepResult:
    """Compute one step on the context's ticket (and message) and pass its findings on; nothing is written here.
    `run` is the step's stored row, if any."""
    record = runs.StepRecord(step=step, run=run, attempts=run.attempts if run is not None else 0)
    if run is not None and run.status == StepStatus.SUCCEEDED and not force:
        _after(ctx, step, None, run)
        return StepResult(record, unchanged=True)
    started = time.perf_counter()
    nothing = TriageRun(step=step, output={})
    error = ""
    for _ in range(attempts_allowed()):
        record.attempts += 1
        try:
            out = STEPS[step](ctx)
        except StepSkipped as skipped:
            _finish(record, StepStatus.SKIPPED, started, output={"reason": str(skipped)})
            _after(ctx, step, None, nothing)
            return StepResult(record)
        except Exception as exc:  # a broken step must never block the ticket: recorded, retried, then failed
            log.warning("triage step %s failed on ticket %s", step, ctx.ticket.pk, exc_info=True)
            error = _error_text(exc)
            continue
        if out is None:
            _finish(record, StepStatus.SKIPPED, started, output={"reason": "no output"})
            _after(ctx, step, None, nothing)
            return StepResult(record)
        _finish(
            record,
            StepStatus.SUCCEEDED,
            started,
            output=output_json(out),
            model_name=out.model_name,
            model_version=out.model_version,
        )
        _after(ctx, step, out, nothing)
        return StepResult(record, out=out)
    _finish(record, StepStatus.FAILED, started, error=error)
    _after(ctx, step, None, nothing)
    return StepResult(record)


def _finish(record: runs.StepRecord, status: str, started: float, **values: Any) -> None:
    record.status = status
    record.output = values.pop("output", {})
    record.error = values.pop("error", "")
    record.model_name = values.pop("model_name", "")
    record.model_version = values.pop("model_version", "")
    record.duration_ms = max(0, round((time.perf_counter() - started) * 1000))
    record.finished_at = now()


# --- writing ---------------------------------------------------------------------------------------------------------
def _plan_step(plan: apply.Plan, result: StepResult, message_id: int | None) -> None:
    out = result.out
    if out is None:
        return
    step = result.record.step
    if out.predictions:
        apply.plan_predictions(plan, list(out.predictions))
    if out.entities:
        apply.plan_entities(plan, _entity_items(step, out), message_id=message_id)
        apply.plan_custom_fields(plan, ai_label(out, step))
    facts = out.data.get("facts")
    if step == "enrichment" and isinstance(facts, list):
        apply.plan_facts(plan, facts)


def ai_label(out: StepOutput, step: str) -> str:
    return f"{out.model_name} {out.model_version}".strip() or step


def write_results(ctx: TriageContext, results: list[StepResult], *, triaged_before: bool) -> None:
    """Write every step's record and findings in one transaction; if that fails, each step alone (a step whose
    findings cannot be applied is then recorded failed with the reason)."""
    pending = [r for r in results if not r.unchanged]
    if not pending:
        return
    try:
        with transaction.atomic():
            _write_steps(ctx, pending, triaged_before=triaged_before)
    except (OperationalError, InterfaceError):
        raise  # the database is unavailable or locked: nothing was written; the event is delivered again later
    except Exception:
        log.warning(
            "triage of ticket %s: the combined write failed; writing step by step", ctx.ticket.pk, exc_info=True
        )
        for result in pending:
            _write_alone(ctx, result)


def _write_steps(ctx: TriageContext, results: list[StepResult], *, triaged_before: bool) -> None:
    if any(r.out is not None for r in results):
        state = apply.TicketState.load(ctx.ticket, triaged_before=triaged_before, stored_entities=ctx.stored_entities)
        plan = apply.Plan(ticket=ctx.ticket, config=ctx.config, state=state)
        for result in results:
            _plan_step(plan, result, ctx.message_id)
        apply.triage_findings_apply(actor=PIPELINE, plan=plan)
    runs.triage_runs_record(ticket=ctx.ticket, message_id=ctx.message_id, records=[r.record for r in results])


def _write_alone(ctx: TriageContext, result: StepResult) -> None:
    try:
        with transaction.atomic():
            ticket = selectors.ticket_for_triage(ticket_id=ctx.ticket.pk) or ctx.ticket
            if result.out is not None:
                plan = apply.Plan(ticket=ticket, config=ctx.config, state=apply.TicketState.load(ticket))
                _plan_step(plan, result, ctx.message_id)
                apply.triage_findings_apply(actor=PIPELINE, plan=plan)
            runs.triage_run_store(ticket=ticket, message_id=ctx.message_id, record=result.record)
            return
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # its findings cannot be applied: the step is recorded failed, with why
        log.warning(
            "triage step %s of ticket %s could not be written", result.record.step, ctx.ticket.pk, exc_info=True
        )
        result.record.status = StepStatus.FAILED
        result.record.output = {}
        result.record.error = _error_text(exc)
    with transaction.atomic():  # should even this fail, the event is delivered again and triage runs again
        runs.triage_run_store(ticket=ctx.ticket, message_id=ctx.message_id, record=result.record)


# --- the entry points -------------------------------------------------------------------------------------------------
def triage_ticket(
    *, ticket_id: int, message_id: int | None = None, force: bool = False, steps: tuple[str, ...] = STEP_ORDER
) -> dict[str, str] | None:
    """Triage a ticket (after a customer message when `message_id` is given). Returns each step's outcome, or None
    when AI is off (PIVOTDESK_AI_ENABLED, or the workspace's settings) or the ticket is gone or merged."""
    if not selectors.ai_enabled():
        return None
    ticket = selectors.ticket_for_triage(ticket_id=ticket_id)
    if ticket is None or ticket.merged_into_id is not None:
        return None
    config = selectors.ai_settings(workspace=ticket.workspace)
    if not config.enabled:
        return None
    if message_id is not None and not ticket.messages.filter(pk=message_id).exists():
        message_id = None
    ctx = TriageContext(ticket=ticket, message_id=message_id, inp=selectors.triage_input(ticket=ticket), config=config)
    stored = runs.triage_runs_load(ticket=ticket, message_id=message_id)
    if stored.any_run:  # entities of earlier triages are passed on and never stored twice
        ctx.stored_entities = selectors.stored_entity_rows(ticket=ticket)
    results: list[StepResult] = []
    for index, step in enumerate(STEP_ORDER):
        if step in steps:
            results.append(run_step(ctx, step, force=force, run=stored.by_step.get(step)))
        elif any(later in steps for later in STEP_ORDER[index + 1 :]):
            pass_on(ctx, step, stored.by_step.get(step))
    write_results(ctx, results, triaged_before=stored.any_run)
    return {r.record.step: r.outcome for r in results}


def pass_on(ctx: TriageContext, step: str, run: TriageRun | None = None) -> None:
    """Hand what an earlier step stored to the later ones without running it (when only some steps are run)."""
    succeeded = run is not None and run.status == StepStatus.SUCCEEDED
    _after(ctx, step, None, run if run is not None and succeeded else TriageRun(step=step, output={}))


def triage_for_event(event: dict[str, Any]) -> dict[str, str] | None:
    """React to ticket.created / message.created (a customer's message): triage that ticket."""
    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if not isinstance(ticket_id, int) or not selectors.event_needs_triage(event):
        return None
    message_id = payload.get("message_id") if event.get("name") == "message.created" else None
    return triage_ticket(ticket_id=ticket_id, message_id=message_id if isinstance(message_id, int) else None)
