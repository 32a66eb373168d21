"""Applying what the pipeline found: predictions with provenance, the sentiment response, entities, enrichment.

A prediction is applied to the ticket (through `tickets.services.ticket_update`, as the AI actor "model version",
so the timeline shows who set what) only when it is confident enough for its field, in scope, and no person has set
that field on the ticket. Otherwise it is kept as abstained / out of scope / skipped_human, and the ticket is
tagged `needs_triage` when a classification was left to a person (and `out_of_scope` when the category model found
the ticket unlike anything it was trained on).

Everything a triage found is first planned in memory (`Plan`: prediction and entity rows, one set of ticket
changes) and then written at once (`triage_findings_apply`): one `ticket_update` with every field and tag change
(one timeline write set, one `ticket.updated`), one bulk insert of predictions and one of entities. The timeline
names the model that made the changes, or "triage" with every model when several did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.ai import selectors
from pivotdesk.ai.domain.entities import mask_sensitive
from pivotdesk.ai.domain.steps import Entity, FieldPrediction
from pivotdesk.ai.models import ExtractedEntity, Prediction, PredictionStatus
from pivotdesk.common.errors import Conflict
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.domain.custom_fields import FieldSpec, FieldValueError, validate_values
from pivotdesk.tickets.models import Category, Priority, Status, Ticket, TicketType

NEGATIVE_LABELS = frozenset({"negative", "angry", "distressed"})
SENTIMENT_LABELS = ("positive", "neutral", "negative", "angry")
PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
EMPATHY = {
    "zh": "非常抱歉给您带来了困扰，我们完全理解您的心情。您的问题已由我们优先处理，我会尽快给您一个明确的答复。",
    "en": "I'm sorry for the trouble this has caused, and I understand how frustrating it is. I've made your "
    "request a priority and will come back to you with a clear answer as soon as possible.",
}
TRIAGE_LABEL = "triage"


def ai_actor(model_name: str, model_version: str) -> Actor:
    """The actor AI changes are recorded under: the model and its version."""
    return Actor(kind="ai", label=f"{model_name} {model_version}".strip()[:200] or "ai")


def _target(ticket: Ticket, field_name: str, value: Any) -> tuple[Any, str, Category | Team | None] | None:
    """A predicted value as the ticket stores it, a readable label and (category, team) the object; None when it
    names nothing valid in the ticket's workspace."""
    if value is None or value == "":
        return None
    if field_name in ("category", "team"):
        targets = selectors.classification_targets(workspace_id=ticket.workspace_id)
        by_id = isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        obj: Category | Team | None
        if field_name == "category":
            obj = targets.categories.get(int(value)) if by_id else targets.category_names.get(str(value))
        else:
            obj = targets.teams.get(int(value)) if by_id else targets.team_names.get(str(value))
        return (obj.pk, obj.name, obj) if obj is not None else None
    if field_name == "priority":
        return (value, str(Priority(value).label), None) if value in Priority.values else None
    if field_name == "ticket_type":
        return (value, str(TicketType(value).label), None) if value in TicketType.values else None
    return value, str(value), None


def resolve_value(ticket: Ticket, field: str, value: Any) -> tuple[Any, str] | None:
    """A predicted value as the ticket stores it, with a readable label; None when it names nothing valid."""
    found = _target(ticket, field, value)
    return (found[0], found[1]) if found is not None else None


def current_value(ticket: Ticket, field: str) -> Any:
    if field in ("category", "team"):
        return getattr(ticket, f"{field}_id")
    return getattr(ticket, field, None)


def _decide(
    p: FieldPrediction, *, resolved: tuple[Any, ...] | None, human: frozenset[str], threshold: float, writable: bool
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


# --- the plan: everything decided in memory, then written at once ---------------------------------------------------
@dataclass
class TicketState:
    """What deciding reads about a ticket, read once: who set which field, overridden predictions, the AI's own
    tags present, the entities stored before."""

    history: selectors.FieldHistory
    overridden: set[str]
    ai_tags: set[str]
    stored_entities: list[ExtractedEntity]

    @classmethod
    def load(
        cls, ticket: Ticket, *, triaged_before: bool = True, stored_entities: list[ExtractedEntity] | None = None
    ) -> TicketState:
        """`triaged_before` False (no step ever ran on the ticket) means no prediction and no entity exists yet
        (only triage writes them), so neither is read."""
        return cls(
            history=selectors.field_history(ticket=ticket),
            overridden=selectors.overridden_fields(ticket=ticket) if triaged_before else set(),
            ai_tags=selectors.ai_tags_of(ticket),
            stored_entities=(
                stored_entities
                if stored_entities is not None
                else selectors.stored_entity_rows(ticket=ticket)
                if triaged_before
                else []
            ),
        )


@dataclass
class Plan:
    """What applying a triage's findings will write: rows, and one set of ticket changes made as `models`."""

    ticket: Ticket
    config: selectors.AISettings
    state: TicketState
    predictions: list[Prediction] = field(default_factory=list)
    entities: list[ExtractedEntity] = field(default_factory=list)  # new rows
    entity_updates: dict[int, ExtractedEntity] = field(default_factory=dict)  # stored rows changed
    changes: dict[str, Any] = field(default_factory=dict)
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # actor labels of the models whose changes these are
    seen_classify: bool = False
    flagged: bool = False
    out_of_scope: bool | None = None  # the category model's verdict, when it spoke

    @property
    def writable(self) -> bool:
        return self.ticket.merged_into_id is None and self.ticket.status != Status.CLOSED

    def by(self, model_name: str, model_version: str) -> None:
        label = ai_actor(model_name, model_version).label
        if label not in self.models:
            self.models.append(label)

    def value_of(self, field_name: str) -> Any:
        """The field's value once the planned changes are made."""
        if field_name in self.changes:
            value = self.changes[field_name]
            return value.pk if isinstance(value, Category | Team) else value
        return current_value(self.ticket, field_name)

    def tag(self, name: str, *, present: bool) -> None:
        (self.add_tags if present else self.remove_tags).append(name)

    def actor(self) -> Actor:
        if len(self.models) == 1:
            return Actor(kind="ai", label=self.models[0])
        return Actor(kind="ai", label=f"{TRIAGE_LABEL} {'; '.join(self.models)}".strip()[:200])

    def ticket_changes(self) -> dict[str, Any]:
        """The changes for `ticket_update` (only tags on a closed ticket: its fields were only suggested)."""
        changes = dict(self.changes) if self.writable else {}
        if self.seen_classify:
            self.tag(selectors.NEEDS_TRIAGE_TAG, present=self.flagged)
        if self.out_of_scope is not None:
            self.tag(selectors.OUT_OF_SCOPE_TAG, present=self.out_of_scope)
        have = self.state.ai_tags
        add = [t for t in dict.fromkeys(self.add_tags) if t not in have or t not in selectors.AI_TAGS]
        remove = [t for t in dict.fromkeys(self.remove_tags) if t in have and t not in add]
        if add:
            changes["add_tags"] = add
        if remove:
            changes["remove_tags"] = remove
        return changes


def plan_predictions(plan: Plan, predictions: list[FieldPrediction]) -> None:
    """Decide each prediction (rows with provenance; the confident, in-scope ones no person set become changes)."""
    ticket, config = plan.ticket, plan.config
    for p in predictions:
        if p.field == "sentiment":
            plan_sentiment(plan, p)
            continue
        if p.field not in selectors.TICKET_FIELDS:
            plan.predictions.append(_row(ticket, p, PredictionStatus.SUGGESTED, p.value, p.label))
            continue
        found = _target(ticket, p.field, p.value)
        status = _decide(
            p,
            resolved=found,
            human=plan.state.history.human,
            threshold=max(config.threshold(p.field), p.min_confidence),
            writable=plan.writable,
        )
        value, label = (found[0], found[1]) if found is not None else (p.value, p.label)
        plan.predictions.append(_row(ticket, p, status, value, p.label or label))
        if p.field in selectors.CLASSIFY_FIELDS:
            plan.seen_classify = True
            plan.flagged |= status in (PredictionStatus.ABSTAINED, PredictionStatus.OUT_OF_SCOPE)
        if p.field == "category":
            plan.out_of_scope = p.out_of_scope
        if status == PredictionStatus.APPLIED and plan.value_of(p.field) != value:
            plan.changes[p.field] = found[2] if found is not None and found[2] is not None else value
            plan.by(p.model_name, p.model_version)
    tagging = plan.flagged or plan.out_of_scope or bool(plan.state.ai_tags)
    first = next((p for p in predictions if p.field in selectors.CLASSIFY_FIELDS), None)
    if first is not None and tagging and not plan.models:  # the tags change as the classifier
        plan.by(first.model_name, first.model_version)


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


def plan_sentiment(plan: Plan, p: FieldPrediction) -> None:
    """The sentiment; a confident negative one tags the ticket and triggers the workspace's response: raise
    priority one step, a routing hint for senior agents, an empathetic reply suggestion."""
    ticket, config = plan.ticket, plan.config
    label = str(p.value)
    if "sentiment" in plan.state.overridden:
        status = PredictionStatus.SKIPPED_HUMAN
    elif p.confidence < config.threshold("sentiment"):
        status = PredictionStatus.ABSTAINED
    else:
        status = PredictionStatus.APPLIED
    plan.predictions.append(_row(ticket, p, status, label, p.label or label))
    if status != PredictionStatus.APPLIED or label not in NEGATIVE_LABELS or ticket.merged_into_id is not None:
        return
    plan.by(p.model_name, p.model_version)
    plan.add_tags += ["negative_sentiment", *(["angry"] if label == "angry" else [])]
    hint_base = {"model_name": p.model_name, "model_version": p.model_version, "confidence": p.confidence}
    if "raise_priority" in config.on_negative and "priority" not in plan.state.history.human and plan.writable:
        index = PRIORITY_ORDER.index(Priority(plan.value_of("priority")))
        if index < len(PRIORITY_ORDER) - 1:
            raised = PRIORITY_ORDER[index + 1]
            plan.changes["priority"] = str(raised)
            raise_p = FieldPrediction(
                "priority", str(raised), p.confidence, f"{p.model_name} (on_negative)", p.model_version
            )
            plan.predictions.append(_row(ticket, raise_p, PredictionStatus.APPLIED, str(raised), str(raised.label)))
    if "prefer_senior" in config.on_negative:
        hint = FieldPrediction("routing_hint", None, p.confidence, p.model_name, p.model_version)
        value = {"prefer": "senior", "reason": label, **hint_base}
        plan.predictions.append(_row(ticket, hint, PredictionStatus.SUGGESTED, value, "prefer senior agents"))
    if "suggest_reply" in config.on_negative:
        language = "zh" if str(plan.value_of("language") or "").startswith("zh") else "en"
        reply = FieldPrediction("reply_suggestion", None, p.confidence, p.model_name, p.model_version)
        plan.predictions.append(_row(ticket, reply, PredictionStatus.SUGGESTED, EMPATHY[language], "empathetic reply"))


def plan_entities(plan: Plan, items: list[tuple[Entity, int | None]], *, message_id: int | None) -> list[Entity]:
    """New entity rows (one per kind and value per ticket; values masked where sensitive); returns them as the
    pipeline passes them on."""
    known = {(e.kind, e.value) for e in [*plan.state.stored_entities, *plan.entities]}
    added: list[Entity] = []
    for entity, attachment_id in items:
        value = mask_sensitive(entity.value)[:255]
        if (entity.kind, value) in known:
            continue
        known.add((entity.kind, value))
        raw = entity.raw if mask_sensitive(entity.raw) == entity.raw else ""
        row = ExtractedEntity(
            workspace_id=plan.ticket.workspace_id,
            ticket=plan.ticket,
            message_id=message_id,
            attachment_id=attachment_id,
            kind=entity.kind[:32],
            value=value,
            raw=raw[:255],
            source=entity.source[:16],
            confidence=entity.confidence,
        )
        plan.entities.append(row)
        added.append(as_entity(row))
    return added


def as_entity(row: ExtractedEntity) -> Entity:
    return Entity(kind=row.kind, value=row.value, raw=row.raw, source=row.source, confidence=row.confidence)


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


def plan_custom_fields(plan: Plan, model_label: str) -> None:
    """Fill the configured custom fields from the entities, never over a value a person (or the customer's form)
    gave; a value the field would refuse is left out (the others still go in)."""
    ticket = plan.ticket
    if not plan.writable:
        return
    mapping = selectors.entity_field_map(workspace_id=ticket.workspace_id, config=plan.config)
    if not mapping:
        return
    specs = selectors.custom_field_specs(workspace_id=ticket.workspace_id)
    rows = [e for e in [*plan.state.stored_entities, *plan.entities] if e.kind in mapping]
    order = {id(e): i for i, e in enumerate(rows)}
    values: dict[str, Any] = dict(plan.changes.get("custom_fields") or {})
    before = len(values)
    for entity in sorted(rows, key=lambda e: (e.source != "text", order[id(e)])):
        key = mapping[entity.kind]
        if key in values or entity.kind == "id_number":
            continue
        if ticket.custom_fields.get(key) not in (None, "", []) or key in plan.state.history.custom_not_ai:
            continue
        spec = specs[key]
        value = _field_value(spec.field_type, list(spec.options or []), entity.value)
        check = FieldSpec(key=key, field_type=spec.field_type, options=tuple(str(o) for o in spec.options or ()))
        try:
            validate_values({key: check}, {}, {key: value})
        except FieldValueError:
            value = None
        if value is not None:
            values[key] = value
            entity.target_field = key
            if entity.pk is not None:
                plan.entity_updates[entity.pk] = entity
    if len(values) > before:
        plan.changes["custom_fields"] = values
        if model_label not in plan.models:
            plan.models.append(model_label)


def plan_facts(plan: Plan, facts: list[dict[str, Any]]) -> int:
    """Attach connector facts ({"kind", "value", …}) to the matching entities that have none yet."""
    count = 0
    for fact in facts:
        if not isinstance(fact, dict) or not fact.get("kind") or not fact.get("value"):
            continue
        for entity in [*plan.state.stored_entities, *plan.entities]:
            if entity.kind == str(fact["kind"]) and entity.value == str(fact["value"]) and entity.enrichment == {}:
                entity.enrichment = fact
                count += 1
                if entity.pk is not None:
                    plan.entity_updates[entity.pk] = entity
    return count


def triage_findings_apply(*, actor: Actor, plan: Plan) -> None:
    """Write what a triage found, planned in memory: one ticket update (made as the model, or as "triage" and its
    models), then the prediction and entity rows in one insert each. Inside the caller's transaction; a ticket
    closed or merged meanwhile gets only what such a ticket may still get. System only (the triage pipeline)."""
    authorize_system(actor)
    _write(plan)


def _write(plan: Plan) -> None:
    changes = plan.ticket_changes()
    if changes and plan.ticket.merged_into_id is None:
        try:
            ticket_services.ticket_update(ticket=plan.ticket, actor=plan.actor(), changes=changes)
        except Conflict:  # closed or merged since triage read it: its fields are only suggested now
            plan.ticket.refresh_from_db(fields=["status", "merged_into"])
            for row in plan.predictions:
                if row.status == PredictionStatus.APPLIED and row.field in selectors.TICKET_FIELDS:
                    row.status = PredictionStatus.SUGGESTED
            for entity in plan.entities:
                entity.target_field = ""
            tags = {k: v for k, v in changes.items() if k in ("add_tags", "remove_tags")}
            if tags and plan.ticket.merged_into_id is None:
                ticket_services.ticket_update(ticket=plan.ticket, actor=plan.actor(), changes=tags)
    if plan.predictions:
        Prediction.objects.bulk_create(plan.predictions)
    if plan.entities:
        ExtractedEntity.objects.bulk_create(plan.entities, ignore_conflicts=True)
    if plan.entity_updates:
        ExtractedEntity.objects.bulk_update(list(plan.entity_updates.values()), ["target_field", "enrichment"])


def new_plan(ticket: Ticket, config: selectors.AISettings, state: TicketState | None = None) -> Plan:
    return Plan(ticket=ticket, config=config, state=state or TicketState.load(ticket))


# --- the single-purpose services (one plan each) --------------------------------------------------------------------
@transaction.atomic
def predictions_apply(
    *, actor: Actor, ticket: Ticket, predictions: list[FieldPrediction], config: selectors.AISettings
) -> list[Prediction]:
    """Store each prediction with provenance and apply the confident, in-scope ones no person has set. System only
    (the triage pipeline; each change is then made as the model that predicted it)."""
    authorize_system(actor)
    if not predictions:
        return []
    plan = new_plan(Ticket.objects.select_related("workspace").get(pk=ticket.pk), config)
    plan_predictions(plan, predictions)
    _write(plan)
    return plan.predictions


def sentiment_apply(
    *, actor: Actor, ticket: Ticket, prediction: FieldPrediction, config: selectors.AISettings
) -> list[Prediction]:
    """Store the sentiment and make the workspace's response to a confident negative one. System only."""
    return predictions_apply(actor=actor, ticket=ticket, predictions=[prediction], config=config)


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
    plan = new_plan(Ticket.objects.select_related("workspace").get(pk=ticket.pk), config)
    plan_entities(plan, items, message_id=message_id)
    plan_custom_fields(plan, model_label)
    _write(plan)
    return plan.entities


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
