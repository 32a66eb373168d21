"""The triage pipeline: runs the steps of STEP_ORDER on a ticket, records each as a TriageRun, applies the results.

Steps owned by other modules are found by name and imported lazily, so a module that is not there (yet) makes its
step "skipped" with the reason "not installed", never a crash:

    multimodal  pivotdesk.ai.services.multimodal.run_step(inp) -> StepOutput
    enrichment  pivotdesk.ai.services.enrichment.enrichment_step(inp, entities) -> StepOutput
    classify    pivotdesk.ai.services.training.classify_step(inp) -> StepOutput
    sentiment   pivotdesk.ai.services.training.sentiment_step(inp) -> StepOutput | None   (None → lexicon)
    summary     pivotdesk.ai.services.llm.summary_step(inp) -> StepOutput | None          (None → extractive)

What a step finds is passed on to the later ones in the TriageInput: attachment text (multimodal) in `extra_text`,
the language, and the connectors' facts (enrichment) in `facts`, which classification and the summary read. A step
that is not run again (it succeeded before) passes on what it had stored, so a re-run sees the same input.

A step that raises is tried again (PIVOTDESK_AI_STEP_ATTEMPTS, default 2) and then recorded failed with the error;
the following steps still run and the ticket is never blocked. A step that succeeded for the same ticket and message
is not run again unless forced. A step computes outside any transaction (OCR, an ERP or an LLM may take seconds, and
the log row of a failed LLM call must survive the failure), then applies its output in one transaction, so a failed
attempt leaves nothing half applied.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import selectors
from pivotdesk.ai.domain import language as language_domain
from pivotdesk.ai.domain import sentiment_lexicon, summary
from pivotdesk.ai.domain import texts as texts_domain
from pivotdesk.ai.domain.entities import EntityConfig, extract_entities, mask_sensitive
from pivotdesk.ai.domain.steps import STEP_ORDER, Entity, FieldPrediction, StepOutput, TriageInput
from pivotdesk.ai.models import StepStatus, TriageRun
from pivotdesk.ai.services import apply, runs
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


# --- the steps -----------------------------------------------------------------------------------------------------
def _external(step: str, *args: Any) -> StepOutput | None:
    fn = entry_point(step)
    if fn is None:
        raise StepSkipped("not installed")
    result = fn(*args)
    if result is not None and not isinstance(result, StepOutput):
        raise TypeError(f"{step} returned {type(result).__name__}, not StepOutput")
    return result


def step_multimodal(ctx: TriageContext) -> StepOutput | None:
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


def step_summary(ctx: TriageContext) -> StepOutput:
    try:
        out = _external("summary", ctx.inp)
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


# --- applying and bookkeeping ----------------------------------------------------------------------------------------
def _apply(ctx: TriageContext, step: str, out: StepOutput) -> None:
    if out.predictions:
        apply.predictions_apply(actor=PIPELINE, ticket=ctx.ticket, predictions=list(out.predictions), config=ctx.config)
    if out.entities:
        ids = out.data.get("attachment_ids") if step == "entities" else None
        attachment_ids = ids if isinstance(ids, list) and len(ids) == len(out.entities) else [None] * len(out.entities)
        apply.entities_store(
            actor=PIPELINE,
            ticket=ctx.ticket,
            items=list(zip(out.entities, attachment_ids, strict=True)),
            config=ctx.config,
            message_id=ctx.message_id,
            model_label=f"{out.model_name} {out.model_version}".strip() or step,
        )
    facts = out.data.get("facts")
    if step == "enrichment" and isinstance(facts, list):
        apply.enrichment_facts_store(actor=PIPELINE, ticket=ctx.ticket, facts=facts)


def _after(ctx: TriageContext, step: str, out: StepOutput | None, run: TriageRun) -> None:
    """Carry what a step found to the following steps (also when it had run before and was not repeated)."""
    if step == "multimodal":
        ctx.attachments = selectors.attachment_texts(ticket=ctx.ticket)
        texts = out.extra_text if out is not None and out.extra_text else [a.text for a in ctx.attachments]
        ctx.inp.extra_text = texts_domain.attachment_texts(texts)
    elif step == "language":
        predictions = (run.output or {}).get("predictions") or []
        if out is not None and out.predictions:
            ctx.inp.language = str(out.predictions[0].value)
        elif predictions:
            ctx.inp.language = str(predictions[0].get("value") or "")
        ctx.inp.language = ctx.inp.language or ctx.ticket.language
    elif step == "entities":
        ctx.entities = selectors.stored_entities(ticket=ctx.ticket)
    elif step == "enrichment":
        # Not run again (or skipped, or failed): what the stored run found, if it succeeded. Training reads the
        # stored facts the same way (pivotdesk.ai.services.training), so the models learn what triage shows them.
        stored = (run.output or {}).get("extra_text") if run.status == StepStatus.SUCCEEDED else None
        ctx.inp.facts = texts_domain.passed_facts(out.extra_text if out is not None else stored)


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


def run_step(ctx: TriageContext, step: str, *, force: bool = False) -> str:
    """Run one step on the context's ticket (and message): record it, apply it, pass its findings on."""
    run = runs.triage_run_get_or_create(ticket=ctx.ticket, step=step, message_id=ctx.message_id)
    if run.status == StepStatus.SUCCEEDED and not force:
        _after(ctx, step, None, run)
        return "unchanged"
    started = time.perf_counter()
    error = ""
    for _ in range(attempts_allowed()):
        runs.triage_run_attempt(run=run)
        try:
            out = STEPS[step](ctx)
            if out is not None:
                with transaction.atomic():
                    _apply(ctx, step, out)
        except StepSkipped as skipped:
            runs.triage_run_finish(
                run=run,
                status=StepStatus.SKIPPED,
                output={"reason": str(skipped)},
                duration_ms=_ms(started),
            )
            _after(ctx, step, None, run)
            return StepStatus.SKIPPED
        except Exception as exc:  # a broken step must never block the ticket: recorded, retried, then failed
            log.warning("triage step %s failed on ticket %s", step, ctx.ticket.pk, exc_info=True)
            error = _error_text(exc)
            continue
        runs.triage_run_finish(
            run=run,
            status=StepStatus.SUCCEEDED if out is not None else StepStatus.SKIPPED,
            output=output_json(out) if out is not None else {"reason": "no output"},
            model_name=out.model_name if out is not None else "",
            model_version=out.model_version if out is not None else "",
            duration_ms=_ms(started),
        )
        _after(ctx, step, out, run)
        return run.status
    runs.triage_run_finish(run=run, status=StepStatus.FAILED, error=error, duration_ms=_ms(started))
    _after(ctx, step, None, run)
    return StepStatus.FAILED


def _ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def triage_ticket(
    *, ticket_id: int, message_id: int | None = None, force: bool = False, steps: tuple[str, ...] = STEP_ORDER
) -> dict[str, str] | None:
    """Triage a ticket (after a customer message when `message_id` is given). Returns each step's outcome, or None
    when AI is off (PIVOTDESK_AI_ENABLED, or the workspace's settings) or the ticket is gone or merged."""
    if not selectors.ai_enabled():
        return None
    ticket = Ticket.objects.select_related("workspace", "organization").filter(pk=ticket_id).first()
    if ticket is None or ticket.merged_into_id is not None:
        return None
    config = selectors.ai_settings(workspace=ticket.workspace)
    if not config.enabled:
        return None
    if message_id is not None and not ticket.messages.filter(pk=message_id).exists():
        message_id = None
    ctx = TriageContext(ticket=ticket, message_id=message_id, inp=selectors.triage_input(ticket=ticket), config=config)
    outcomes: dict[str, str] = {}
    for index, step in enumerate(STEP_ORDER):
        if step in steps:
            outcomes[step] = run_step(ctx, step, force=force)
        elif any(later in steps for later in STEP_ORDER[index + 1 :]):
            pass_on(ctx, step)
    return outcomes


def pass_on(ctx: TriageContext, step: str) -> None:
    """Hand what an earlier step stored to the later ones without running it (when only some steps are run)."""
    run = selectors.succeeded_run(ticket=ctx.ticket, step=step, message_id=ctx.message_id)
    _after(ctx, step, None, run if run is not None else TriageRun(step=step, output={}))


def triage_for_event(event: dict[str, Any]) -> dict[str, str] | None:
    """React to ticket.created / message.created (a customer's message): triage that ticket."""
    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if not isinstance(ticket_id, int) or not selectors.event_needs_triage(event):
        return None
    message_id = payload.get("message_id") if event.get("name") == "message.created" else None
    return triage_ticket(ticket_id=ticket_id, message_id=message_id if isinstance(message_id, int) else None)
