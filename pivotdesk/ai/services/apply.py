"""Applying what the pipeline found: predictions with provenance, the sentiment response, entities, enrichment.

A prediction is applied to the ticket (through `tickets.services.ticket_update`, as the AI actor "model version",
so the timeline shows who set what) only when it is confident enough for its field, in scope, and no person has set
that field on the ticket. Otherwise it is kept as abstained / out of scope / skipped_human, and the ticket is
tagged `needs_triage` when a classification was left to a person.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Q

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.ai import selectors
from pivotdesk.ai.domain.entities import mask_sensitive
from pivotdesk.ai.domain.steps import Entity, FieldPrediction
from pivotdesk.ai.models import ExtractedEntity, Prediction, PredictionStatus
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, Priority, Status, Ticket, TicketEvent, TicketType

NEGATIVE_LABELS = frozenset({"negative", "angry", "distressed"})
SENTIMENT_LABELS = ("positive", "neutral", "negative", "angry")
PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
EMPATHY = {
    "zh": "非常抱歉给您带来了困扰，我们完全理解您的心情。您的问题已由我们优先处理，我会尽快给您一个明确的答复。",
    "en": "I'm sorry for the trouble this has caused, and I understand how frustrating it is. I've made your "
    "request a priority and will come back to you with a clear answer as soon as possible.",
}


def ai_actor(model_name: str, model_version: str) -> Actor:
    """The actor AI changes are recorded under: the model and its version."""
    return Actor(kind="ai", label=f"{model_name} {model_version}".strip()[:200] or "ai")


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("workspace", "category", "team").get(pk=ticket.pk)


def resolve_value(ticket: Ticket, field: str, value: Any) -> tuple[Any, str] | None:
    """A predicted value as the ticket stores it, with a readable label; None when it names nothing valid."""
    if value is None or value == "":
        return None
    if field in ("category", "team"):
        by_id = isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        obj: Category | Team | None
        if field == "category":
            categories = Category.objects.filter(workspace_id=ticket.workspace_id, active=True)
            obj = (
                categories.filter(pk=int(value)).first()
                if by_id
                else categories.filter(Q(name=str(value)) | Q(name_zh=str(value))).order_by("pk").first()
            )
        else:
            teams = Team.objects.filter(workspace_id=ticket.workspace_id)
            obj = teams.filter(pk=int(value)).first() if by_id else teams.filter(name=str(value)).first()
        return (obj.pk, obj.name) if obj is not None else None
    if field == "priority":
        return (value, str(Priority(value).label)) if value in Priority.values else None
    if field == "ticket_type":
        return (value, str(TicketType(value).label)) if value in TicketType.values else None
    if field == "language":
        return str(value), str(value)
    return value, str(value)


def current_value(ticket: Ticket, field: str) -> Any:
    if field in ("category", "team"):
        return getattr(ticket, f"{field}_id")
    return getattr(ticket, field, None)


def _decide(
    p: FieldPrediction, *, resolved: tuple[Any, str] | None, human: set[str], threshold: float, writable: bool
) -> str:
    if p.out_of_scope:
        return PredictionStatus.OUT_OF_SCOPE
    if resolved is None:
        return PredictionStatus.SUGGESTED
    if p.field in human:
        return PredictionStatus.SKIPPED_HUMAN
    if p.confidence < threshold:
        return PredictionStatus.ABSTAINED
    return PredictionStatus.APPLIED if writable else PredictionStatus.SUGGESTED


@transaction.atomic
def predictions_apply(
    *, actor: Actor, ticket: Ticket, predictions: list[FieldPrediction], config: selectors.AISettings
) -> list[Prediction]:
    """Store each prediction with provenance and apply the confident, in-scope ones no person has set. System only
    (the triage pipeline; each change is then made as the model that predicted it)."""
    authorize_system(actor)
    if not predictions:
        return []
    ticket = _fresh(ticket)
    human = selectors.human_set_fields(ticket=ticket)
    writable = ticket.merged_into_id is None and ticket.status != Status.CLOSED
    rows: list[Prediction] = []
    changes: dict[str, dict[str, Any]] = defaultdict(dict)  # actor label → changes
    actors: dict[str, Actor] = {}
    flagged = seen_classify = False
    for p in predictions:
        if p.field == "sentiment":
            rows.extend(sentiment_apply(actor=actor, ticket=ticket, prediction=p, config=config))
            continue
        if p.field not in selectors.TICKET_FIELDS:
            rows.append(_row(ticket, p, PredictionStatus.SUGGESTED, p.value, p.label))
            continue
        resolved = resolve_value(ticket, p.field, p.value)
        status = _decide(
            p,
            resolved=resolved,
            human=human,
            threshold=max(config.threshold(p.field), p.min_confidence),
            writable=writable,
        )
        value, label = resolved if resolved is not None else (p.value, p.label)
        rows.append(_row(ticket, p, status, value, p.label or label))
        if p.field in selectors.CLASSIFY_FIELDS:
            seen_classify = True
            flagged |= status in (PredictionStatus.ABSTAINED, PredictionStatus.OUT_OF_SCOPE)
        if status == PredictionStatus.APPLIED and current_value(ticket, p.field) != value:
            model = ai_actor(p.model_name, p.model_version)
            actors[model.label] = model
            changes[model.label][p.field] = value
    Prediction.objects.bulk_create(rows)
    tags = set(ticket.tags.values_list("name", flat=True))
    tag_change: dict[str, list[str]] = {}
    if flagged and selectors.NEEDS_TRIAGE_TAG not in tags:
        tag_change = {"add_tags": [selectors.NEEDS_TRIAGE_TAG]}
    elif seen_classify and not flagged and selectors.NEEDS_TRIAGE_TAG in tags:
        tag_change = {"remove_tags": [selectors.NEEDS_TRIAGE_TAG]}
    if tag_change and ticket.merged_into_id is None:
        first = predictions[0]
        model = ai_actor(first.model_name, first.model_version)
        actors.setdefault(model.label, model)
        changes[model.label].update(tag_change)
    for label, change in changes.items():  # only tags change on a closed ticket (its fields were only suggested)
        if change:
            ticket_services.ticket_update(ticket=ticket, actor=actors[label], changes=change)
    return rows


def _row(ticket: Ticket, p: FieldPrediction, status: str, value: Any, label: str) -> Prediction:
    return Prediction(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        field=p.field[:32],
        value=value,
        label=str(label or "")[:200],
        confidence=round(float(p.confidence), 4),
        status=status,
        model_name=p.model_name[:120],
        model_version=str(p.model_version)[:64],
        alternatives=[[a, round(float(s), 4)] for a, s in p.alternatives][:10],
    )


def _sentiment_overridden(ticket: Ticket) -> bool:
    return Prediction.objects.filter(ticket=ticket, field="sentiment", status=PredictionStatus.OVERRIDDEN).exists()


def sentiment_apply(
    *, actor: Actor, ticket: Ticket, prediction: FieldPrediction, config: selectors.AISettings
) -> list[Prediction]:
    """Store the sentiment; a confident negative one tags the ticket and triggers the workspace's response:
    raise priority one step, a routing hint for senior agents, an empathetic reply suggestion. System only."""
    authorize_system(actor)
    p = prediction
    label = str(p.value)
    if _sentiment_overridden(ticket):
        status = PredictionStatus.SKIPPED_HUMAN
    elif p.confidence < config.threshold("sentiment"):
        status = PredictionStatus.ABSTAINED
    else:
        status = PredictionStatus.APPLIED
    rows = [_row(ticket, p, status, label, p.label or label)]
    if status != PredictionStatus.APPLIED or label not in NEGATIVE_LABELS or ticket.merged_into_id is not None:
        return rows
    model = ai_actor(p.model_name, p.model_version)
    changes: dict[str, Any] = {"add_tags": ["negative_sentiment", *(["angry"] if label == "angry" else [])]}
    hint_base = {"model_name": p.model_name, "model_version": p.model_version, "confidence": p.confidence}
    if "raise_priority" in config.on_negative and "priority" not in selectors.human_set_fields(ticket=ticket):
        current = Priority(ticket.priority)
        index = PRIORITY_ORDER.index(current)
        if index < len(PRIORITY_ORDER) - 1 and ticket.status != Status.CLOSED:
            raised = PRIORITY_ORDER[index + 1]
            changes["priority"] = str(raised)
            rows.append(
                _row(
                    ticket,
                    FieldPrediction(
                        field="priority",
                        value=str(raised),
                        confidence=p.confidence,
                        model_name=f"{p.model_name} (on_negative)",
                        model_version=p.model_version,
                    ),
                    PredictionStatus.APPLIED,
                    str(raised),
                    str(raised.label),
                )
            )
    if "prefer_senior" in config.on_negative:
        rows.append(
            _row(
                ticket,
                FieldPrediction("routing_hint", None, p.confidence, p.model_name, p.model_version),
                PredictionStatus.SUGGESTED,
                {"prefer": "senior", "reason": label, **hint_base},
                "prefer senior agents",
            )
        )
    if "suggest_reply" in config.on_negative:
        language = "zh" if (ticket.language or "").startswith("zh") else "en"
        rows.append(
            _row(
                ticket,
                FieldPrediction("reply_suggestion", None, p.confidence, p.model_name, p.model_version),
                PredictionStatus.SUGGESTED,
                EMPATHY[language],
                "empathetic reply",
            )
        )
    if ticket.status == Status.CLOSED:
        changes.pop("priority", None)
    ticket_services.ticket_update(ticket=ticket, actor=model, changes=changes)
    return rows


# --- entities -------------------------------------------------------------------------------------------------------
def _custom_field_set_by_human(ticket: Ticket, key: str) -> bool:
    return TicketEvent.objects.filter(ticket=ticket, field=f"custom_fields.{key}").exclude(actor_type="ai").exists()


def _field_value(spec_type: str, options: list[Any], value: str) -> Any:
    if spec_type == "select":
        return value if value in [str(o) for o in options] else None
    if spec_type == "number":
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    if spec_type == "text":
        return value
    return None


@transaction.atomic
def entities_store(
    *,
    actor: Actor,
    ticket: Ticket,
    items: list[tuple[Entity, int | None]],
    config: selectors.AISettings,
    message_id: int | None = None,
    model_label: str = "entities",
) -> list[ExtractedEntity]:
    """Store what was found (one row per kind and value per ticket; values already masked where sensitive) and fill
    the configured custom fields, never over a value a person (or the customer's form) gave. System only."""
    authorize_system(actor)
    if not items:
        return []
    ticket = _fresh(ticket)
    existing = set(ExtractedEntity.objects.filter(ticket=ticket).values_list("kind", "value"))
    new: list[ExtractedEntity] = []
    for entity, attachment_id in items:
        value = mask_sensitive(entity.value)[:255]
        if (entity.kind, value) in existing:
            continue
        existing.add((entity.kind, value))
        raw = entity.raw if mask_sensitive(entity.raw) == entity.raw else ""
        new.append(
            ExtractedEntity(
                workspace_id=ticket.workspace_id,
                ticket=ticket,
                message_id=message_id,
                attachment_id=attachment_id,
                kind=entity.kind[:32],
                value=value,
                raw=raw[:255],
                source=entity.source[:16],
                confidence=entity.confidence,
            )
        )
    ExtractedEntity.objects.bulk_create(new, ignore_conflicts=True)
    _fill_custom_fields(ticket, config, model_label)
    return new


def _fill_custom_fields(ticket: Ticket, config: selectors.AISettings, model_label: str) -> None:
    if ticket.merged_into_id is not None or ticket.status == Status.CLOSED:
        return
    mapping = selectors.entity_field_map(workspace_id=ticket.workspace_id, config=config)
    if not mapping:
        return
    specs = selectors.custom_field_specs(workspace_id=ticket.workspace_id)
    entities = list(ExtractedEntity.objects.filter(ticket=ticket, kind__in=list(mapping)).order_by("pk"))
    values: dict[str, Any] = {}
    filled: dict[str, int] = {}
    for entity in sorted(entities, key=lambda e: (e.source != "text", e.pk)):
        key = mapping[entity.kind]
        if key in values or key in filled or entity.kind == "id_number":
            continue
        if ticket.custom_fields.get(key) not in (None, "", []) or _custom_field_set_by_human(ticket, key):
            continue
        spec = specs[key]
        value = _field_value(spec.field_type, list(spec.options or []), entity.value)
        if value is not None:
            values[key] = value
            filled[key] = entity.pk
    if not values:
        return
    model = ai_actor(model_label, "")
    try:
        ticket_services.ticket_update(ticket=ticket, actor=model, changes={"custom_fields": values})
    except (ValidationFailed, Conflict):
        for key, value in list(values.items()):  # one bad value must not keep the others out
            try:
                ticket_services.ticket_update(ticket=ticket, actor=model, changes={"custom_fields": {key: value}})
            except (ValidationFailed, Conflict):
                filled.pop(key)
    for key, entity_id in filled.items():
        ExtractedEntity.objects.filter(pk=entity_id).update(target_field=key)


def enrichment_facts_store(*, actor: Actor, ticket: Ticket, facts: list[dict[str, Any]]) -> int:
    """Attach connector facts ({"kind", "value", …}) to the matching entities of a ticket; returns how many.
    System only."""
    authorize_system(actor)
    count = 0
    for fact in facts:
        if not isinstance(fact, dict) or not fact.get("kind") or not fact.get("value"):
            continue
        count += ExtractedEntity.objects.filter(
            ticket=ticket, kind=str(fact["kind"]), value=str(fact["value"]), enrichment={}
        ).update(enrichment=fact)
    return count
