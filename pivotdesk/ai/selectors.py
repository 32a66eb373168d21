"""Reads of the AI app: the workspace's AI settings, a ticket's triage input, the AI panel, subscriber checks.

Supervisor statistics live in `pivotdesk.ai.insights`. Every read is scoped to a workspace (or to a ticket that
was itself fetched through an access check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext

from pivotdesk.accounts.models import Team, Workspace
from pivotdesk.ai.domain import texts
from pivotdesk.ai.domain.steps import Entity, TriageInput
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.ai.models import Connector, ExtractedEntity, Prediction, PredictionStatus, StepStatus, TriageRun
from pivotdesk.common.config_cache import workspace_config
from pivotdesk.common.errors import NotFound
from pivotdesk.tickets.models import Attachment, Category, CustomField, Message, Tag, Ticket, TicketEvent

DEFAULT_THRESHOLD = 0.6
DEFAULT_THRESHOLDS: dict[str, float] = {"language": 0.5, "sentiment": 0.55}
DEFAULT_ON_NEGATIVE: tuple[str, ...] = ("prefer_senior", "suggest_reply")
ON_NEGATIVE_ACTIONS = frozenset({"raise_priority", "prefer_senior", "suggest_reply"})
# Which custom field an entity kind fills, unless the workspace says otherwise: the first key that exists.
DEFAULT_ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "order_number": ("order_number", "order_no"),
    "device_model": ("device_model", "model"),
    "serial_number": ("serial_number", "serial_no", "sn"),
}
TICKET_FIELDS = ("language", "category", "priority", "team", "ticket_type")
CLASSIFY_FIELDS = ("category", "priority", "team", "ticket_type")
HUMAN_ACTORS = ("agent", "api")
AI_ACTORS = ("ai", "system")  # the pipeline and the models it acts as: their changes are never a person's override
NEEDS_TRIAGE_TAG = "needs_triage"
OUT_OF_SCOPE_TAG = "out_of_scope"
AI_TAGS = (NEEDS_TRIAGE_TAG, OUT_OF_SCOPE_TAG)


@dataclass(frozen=True)
class AISettings:
    """workspace.settings["ai"], read with defaults."""

    enabled: bool = True
    thresholds: dict[str, float] = field(default_factory=dict)
    on_negative: tuple[str, ...] = DEFAULT_ON_NEGATIVE
    entities: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def threshold(self, field_name: str) -> float:
        value = self.thresholds.get(field_name, DEFAULT_THRESHOLDS.get(field_name, DEFAULT_THRESHOLD))
        try:
            return float(value)
        except (TypeError, ValueError):
            return DEFAULT_THRESHOLD


def ai_settings(*, workspace: Workspace) -> AISettings:
    """The workspace's AI settings: {"enabled", "thresholds": {field: 0..1}, "on_negative": [...], "entities"}."""
    raw = (workspace.settings or {}).get("ai") or {}
    if not isinstance(raw, dict):
        raw = {}
    on_negative = raw.get("on_negative", DEFAULT_ON_NEGATIVE)
    if isinstance(on_negative, str):
        on_negative = [on_negative]
    thresholds = raw.get("thresholds") if isinstance(raw.get("thresholds"), dict) else {}
    return AISettings(
        enabled=bool(raw.get("enabled", True)),
        thresholds=dict(thresholds or {}),
        on_negative=tuple(a for a in on_negative or () if a in ON_NEGATIVE_ACTIONS),
        entities=dict(raw.get("entities") or {}) if isinstance(raw.get("entities"), dict) else {},
        raw=raw,
    )


def ai_enabled() -> bool:
    return bool(getattr(settings, "PIVOTDESK_AI_ENABLED", True))


# --- subscriber checks (cheap, in the publishing process) ----------------------------------------------------------
def event_needs_triage(event: dict[str, Any]) -> bool:
    """ticket.created always; message.created only for a customer's message after the first (ticket.created covers
    the first one, which ticket_create publishes too)."""
    if not ai_enabled():
        return False
    payload = event.get("payload") or {}
    if event.get("name") != "message.created":
        return True
    if payload.get("author_type") != "contact":
        return False
    message_id, ticket_id = payload.get("message_id"), payload.get("ticket_id")
    if not message_id or not ticket_id:
        return True
    return Message.objects.filter(ticket_id=ticket_id, pk__lt=message_id).exists()


def event_may_override(event: dict[str, Any]) -> bool:
    """ticket.updated touching a field the AI may have set, made by someone other than the AI or the system (no
    query for those: triage's own update is never an override), on a ticket that has predictions."""
    payload = event.get("payload") or {}
    if payload.get("actor_type") in AI_ACTORS:
        return False
    fields = set(payload.get("fields") or ())
    if not fields & {*TICKET_FIELDS, "custom_fields"}:
        return False
    ticket_id = payload.get("ticket_id")
    return isinstance(ticket_id, int) and Prediction.objects.filter(ticket_id=ticket_id).exists()


# --- what the pipeline reads ---------------------------------------------------------------------------------------
def ticket_for_triage(*, ticket_id: int) -> Ticket | None:
    """The ticket with its workspace and organisation, and (annotated, in the same statement) whether any triage
    step ever ran on it (`has_runs`), whether it has attachments (`has_attachments`) and which of the AI's own tags
    it carries (`has_needs_triage`, `has_out_of_scope`)."""
    tags = Tag.objects.filter(tickets=OuterRef("pk"))
    return (
        Ticket.objects.select_related("workspace", "organization")
        .annotate(
            has_runs=Exists(TriageRun.objects.filter(ticket=OuterRef("pk"))),
            has_attachments=Exists(Attachment.objects.filter(ticket=OuterRef("pk"))),
            has_needs_triage=Exists(tags.filter(name=NEEDS_TRIAGE_TAG)),
            has_out_of_scope=Exists(tags.filter(name=OUT_OF_SCOPE_TAG)),
        )
        .filter(pk=ticket_id)
        .first()
    )


def ai_tags_of(ticket: Ticket) -> set[str]:
    """The AI's own tags a ticket carries: from `ticket_for_triage`'s annotations, else read."""
    flags = vars(ticket)  # the annotations, when there
    if "has_needs_triage" in flags:
        present = {NEEDS_TRIAGE_TAG: flags["has_needs_triage"], OUT_OF_SCOPE_TAG: flags["has_out_of_scope"]}
        return {name for name, there in present.items() if there}
    return set(ticket.tags.filter(name__in=AI_TAGS).values_list("name", flat=True))


def triage_input(*, ticket: Ticket) -> TriageInput:
    """The ticket as the steps see it: subject, the customer's messages (newest last), languages, settings."""
    bodies = list(
        Message.objects.filter(ticket=ticket, author_type="contact", kind="public")
        .order_by("created_at", "pk")
        .values_list("body_text", flat=True)
    )
    fallback = ""
    if not bodies:
        first = Message.objects.filter(ticket=ticket).order_by("created_at", "pk").values_list("body_text", flat=True)
        fallback = next(iter(first[:1]), "") or ""
    text = texts.messages_text(bodies, fallback)  # the same as training builds (one place)
    workspace = ticket.workspace
    languages = tuple(workspace.languages or ()) or (workspace.default_language,)
    organization = ticket.organization
    return TriageInput(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.pk,
        subject=ticket.subject,
        text=text,
        languages=languages,
        channel=ticket.channel,
        customer_tier=getattr(organization, "tier", "") if organization else "",
        config=ai_settings(workspace=workspace).raw,
    )


@dataclass(frozen=True)
class AttachmentText:
    attachment_id: int
    message_id: int | None
    source: str  # ocr | asr
    text: str


def attachment_texts(*, ticket: Ticket) -> list[AttachmentText]:
    """Text read from the ticket's attachments (stored by the multimodal step), with where it came from."""
    rows = Attachment.objects.filter(ticket=ticket).exclude(extracted_text="").order_by("pk")
    out = []
    for pk, message_id, content_type, text in rows.values_list("pk", "message_id", "content_type", "extracted_text"):
        kind = (content_type or "").split("/", 1)[0]
        out.append(AttachmentText(pk, message_id, "asr" if kind in ("audio", "video") else "ocr", text))
    return out


@dataclass(frozen=True)
class FieldHistory:
    """Who set what on a ticket, from its timeline: fields a person (agent or API client) set, and custom fields
    anyone but the AI set (a person, the customer's form, an automation)."""

    human: frozenset[str]
    custom_not_ai: frozenset[str]


def field_history(*, ticket: Ticket) -> FieldHistory:
    """The ticket's field history in one statement (see FieldHistory)."""
    rows = (
        TicketEvent.objects.filter(ticket=ticket)
        .filter(Q(actor_type__in=HUMAN_ACTORS, verb="created") | ~Q(field=""))
        .exclude(actor_type="ai", field__startswith="custom_fields.")
        .values_list("actor_type", "field", "verb")
        .distinct()
    )
    human: set[str] = set()
    custom: set[str] = set()
    opened_by_human = False
    for actor_type, field_name, verb in rows:
        if field_name.startswith("custom_fields.") and actor_type != "ai":
            custom.add(field_name.removeprefix("custom_fields."))
        if actor_type in HUMAN_ACTORS:
            if field_name:
                human.add(field_name)
            opened_by_human |= verb == "created"
    return FieldHistory(human=frozenset(_opened_with(ticket, human, opened_by_human)), custom_not_ai=frozenset(custom))


def human_set_fields(*, ticket: Ticket) -> set[str]:
    """Ticket fields a person (agent or API client) set: changed on the timeline, or given when they opened it."""
    return set(field_history(ticket=ticket).human)


def _opened_with(ticket: Ticket, fields: set[str], opened_by_human: bool) -> set[str]:
    """`fields` plus the fields a person gave when they opened the ticket (those not at their default)."""
    if opened_by_human:
        defaults = {"category": None, "team": None, "priority": "normal", "ticket_type": "question", "language": ""}
        current = {
            "category": ticket.category_id,
            "team": ticket.team_id,
            "priority": ticket.priority,
            "ticket_type": ticket.ticket_type,
            "language": ticket.language,
        }
        fields |= {f for f, default in defaults.items() if current[f] != default}
    return fields


def custom_field_specs(*, workspace_id: int) -> dict[str, CustomField]:
    """The workspace's active custom fields by key (cached per process: `common.config_cache`, which the custom
    field services invalidate)."""

    def load() -> dict[str, CustomField]:
        return {f.key: f for f in CustomField.objects.filter(workspace_id=workspace_id, active=True)}

    return workspace_config(workspace_id, "ai_custom_fields", load)


@dataclass(frozen=True)
class Targets:
    """What a classification can name: the workspace's active categories and its teams, by id and by name."""

    categories: dict[int, Category]
    category_names: dict[str, Category]
    teams: dict[int, Team]
    team_names: dict[str, Team]


def classification_targets(*, workspace_id: int) -> Targets:
    """The workspace's categories and teams for resolving predictions (cached per process for the configuration
    cache's TTL: a model can only name what it was trained on, which exists long before)."""

    def load() -> Targets:
        categories = list(Category.objects.filter(workspace_id=workspace_id, active=True).order_by("pk"))
        teams = list(Team.objects.filter(workspace_id=workspace_id).order_by("pk"))
        names: dict[str, Category] = {}
        for c in categories:
            names.setdefault(c.name, c)
            if c.name_zh:
                names.setdefault(c.name_zh, c)
        team_names: dict[str, Team] = {}
        for t in teams:
            team_names.setdefault(t.name, t)
        return Targets({c.pk: c for c in categories}, names, {t.pk: t for t in teams}, team_names)

    return workspace_config(workspace_id, "ai_targets", load)


def active_connectors(*, workspace_id: int) -> list[Connector]:
    """The workspace's active enrichment connectors (cached per process; the connector services invalidate it)."""

    def load() -> list[Connector]:
        return list(Connector.objects.filter(workspace_id=workspace_id, active=True).order_by("name", "pk"))

    return workspace_config(workspace_id, "ai_connectors", load)


def entity_field_map(*, workspace_id: int, config: AISettings) -> dict[str, str]:
    """Entity kind → custom field key it fills (configured, else the first default key that exists)."""
    specs = custom_field_specs(workspace_id=workspace_id)
    configured = config.entities.get("fields")
    if isinstance(configured, dict):
        return {str(k): str(v) for k, v in configured.items() if str(v) in specs}
    return {
        kind: next(k for k in keys if k in specs)
        for kind, keys in DEFAULT_ENTITY_FIELDS.items()
        if any(k in specs for k in keys)
    }


def entity_catalog(*, workspace_id: int, config: AISettings) -> list[str]:
    """Product/device names to look for: the configured catalog plus the options of the device model field."""
    key = entity_field_map(workspace_id=workspace_id, config=config).get("device_model")
    spec = custom_field_specs(workspace_id=workspace_id).get(key or "")
    options = [str(o) for o in (spec.options or [])] if spec is not None and spec.field_type == "select" else []
    return [*(config.entities.get("catalog") or []), *options]


def overridden_fields(*, ticket: Ticket) -> set[str]:
    """Fields of the ticket whose AI prediction a person overrode."""
    rows = Prediction.objects.filter(ticket=ticket, status=PredictionStatus.OVERRIDDEN)
    return set(rows.values_list("field", flat=True).distinct())


def stored_entity_rows(*, ticket: Ticket) -> list[ExtractedEntity]:
    """The entities already stored for a ticket, oldest first."""
    return list(ExtractedEntity.objects.filter(ticket=ticket).order_by("pk"))


def succeeded_run(*, ticket: Ticket, step: str, message_id: int | None) -> TriageRun | None:
    """The succeeded run of a step for this ticket (and message), if any."""
    runs = TriageRun.objects.filter(ticket=ticket, step=step, status=StepStatus.SUCCEEDED)
    return (runs.filter(message__isnull=True) if message_id is None else runs.filter(message_id=message_id)).first()


def stored_entities(*, ticket: Ticket) -> list[Entity]:
    """The entities already stored for a ticket, as the pipeline passes them on."""
    return [
        Entity(kind=e.kind, value=e.value, raw=e.raw, source=e.source, confidence=e.confidence)
        for e in ExtractedEntity.objects.filter(ticket=ticket).order_by("pk")
    ]


def latest_predictions(*, ticket: Ticket) -> dict[str, Prediction]:
    """The newest prediction per field of a ticket."""
    out: dict[str, Prediction] = {}
    for p in Prediction.objects.filter(ticket=ticket).select_related("human_agent__user").order_by("created_at", "pk"):
        out[p.field] = p
    return out


def access_prediction(*, ticket: Ticket, prediction_id: int) -> Prediction:
    """A prediction of this ticket (already access-checked), else NotFound."""
    prediction = Prediction.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket, pk=prediction_id).first()
    if prediction is None:
        raise NotFound(gettext("Prediction not found."), code=AIErrorCode.PREDICTION_NOT_FOUND)
    return prediction


# --- the AI panel --------------------------------------------------------------------------------------------------
@dataclass
class AIPanel:
    """What the ticket page's AI panel shows."""

    fields: list[Prediction]
    needs_triage: bool
    entities: list[ExtractedEntity]
    facts: list[dict[str, Any]]
    summary: str
    summary_model: str
    routing_hint: dict[str, Any] | None
    reply_suggestion: str
    runs: list[TriageRun]
    has_run: bool


PANEL_FIELDS = ("language", "category", "priority", "team", "ticket_type", "sentiment")


def ai_panel(*, ticket: Ticket) -> AIPanel:
    """The newest prediction per field, entities, enrichment facts, summary and step statuses of a ticket."""
    latest = latest_predictions(ticket=ticket)
    runs = list(TriageRun.objects.filter(ticket=ticket).order_by("-created_at", "-pk")[:50])
    newest_per_step: dict[str, TriageRun] = {}
    for run in runs:
        newest_per_step.setdefault(run.step, run)
    summary_run = next(
        (r for r in runs if r.step == "summary" and r.status == StepStatus.SUCCEEDED and r.output.get("data")), None
    )
    summary_data = summary_run.output.get("data", {}) if summary_run else {}
    facts: list[dict[str, Any]] = []
    enrichment_run = next((r for r in runs if r.step == "enrichment" and r.status == StepStatus.SUCCEEDED), None)
    if enrichment_run is not None:
        raw_facts = enrichment_run.output.get("data", {}).get("facts") or []
        facts = [f for f in raw_facts if isinstance(f, dict)][:20]
    hint = latest.get("routing_hint")
    reply = latest.get("reply_suggestion")
    tags = set(ticket.tags.values_list("name", flat=True))
    return AIPanel(
        fields=[latest[f] for f in PANEL_FIELDS if f in latest],
        needs_triage=NEEDS_TRIAGE_TAG in tags,
        entities=list(ExtractedEntity.objects.filter(ticket=ticket).order_by("kind", "pk")[:100]),
        facts=facts,
        summary=str(summary_data.get("summary") or ""),
        summary_model=summary_run.model_name if summary_run else "",
        routing_hint=hint.value if hint is not None and isinstance(hint.value, dict) else None,
        reply_suggestion=str(reply.value) if reply is not None and reply.value else "",
        runs=sorted(newest_per_step.values(), key=lambda r: _step_index(r.step)),
        has_run=bool(runs),
    )


def _step_index(step: str) -> int:
    from pivotdesk.ai.domain.steps import STEP_ORDER

    return STEP_ORDER.index(step) if step in STEP_ORDER else len(STEP_ORDER)


def routing_hint(*, ticket: Ticket) -> dict[str, Any] | None:
    """The AI's routing hint for a ticket (e.g. {"prefer": "senior", "reason": "angry"}), for the routing app."""
    hint = (
        Prediction.objects.filter(ticket=ticket, field="routing_hint")
        .exclude(status=PredictionStatus.OVERRIDDEN)
        .order_by("-created_at", "-pk")
        .first()
    )
    return hint.value if hint is not None and isinstance(hint.value, dict) else None


def untriaged_tickets(*, workspace: Workspace | None = None) -> list[int]:
    """Ids of tickets no pipeline step ever ran on (oldest first)."""
    qs = Ticket.objects.filter(merged_into__isnull=True).filter(~Q(triage_runs__isnull=False))
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    return list(qs.order_by("pk").values_list("pk", flat=True).distinct())


# --- the supervisor page -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldStats:
    """How one field's predictions fared: applied, kept, overridden, abstained (rates over the period)."""

    field: str
    total: int
    applied: int  # applied and still as the AI set it
    confirmed: int
    overridden: int
    abstained: int  # abstained or out of scope
    skipped_human: int

    @property
    def decided(self) -> int:
        return self.applied + self.confirmed + self.overridden

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.decided if self.decided else None

    @property
    def abstention_rate(self) -> float | None:
        return self.abstained / self.total if self.total else None


@dataclass(frozen=True)
class WeekAccuracy:
    week: Any
    decided: int
    kept: int

    @property
    def accuracy(self) -> float | None:
        return self.kept / self.decided if self.decided else None


@dataclass(frozen=True)
class StepStats:
    step: str
    runs: int
    succeeded: int
    skipped: int
    failed: int
    p50_ms: int | None


@dataclass
class AIInsights:
    since: Any
    fields: list[FieldStats]
    weeks: list[WeekAccuracy]
    steps: list[StepStats]
    models: list[Any]


INSIGHT_FIELDS = (*TICKET_FIELDS, "sentiment")


def ai_insights(*, workspace: Workspace, weeks: int = 12) -> AIInsights:
    """Model versions per field, weekly accuracy (share of applied predictions no person overrode), override and
    abstention rate per field, and per step the failures and median latency, over the last `weeks` weeks."""
    import datetime as dt
    import statistics

    from django.db.models import Count
    from django.db.models.functions import TruncWeek

    from pivotdesk.ai.domain.steps import STEP_ORDER
    from pivotdesk.ai.models import ModelVersion
    from pivotdesk.common.time import now

    since = now() - dt.timedelta(weeks=weeks)
    predictions = Prediction.objects.filter(workspace=workspace, created_at__gte=since, field__in=INSIGHT_FIELDS)
    counts: dict[str, dict[str, int]] = {}
    for row in predictions.values("field", "status").annotate(n=Count("id")).order_by():
        counts.setdefault(row["field"], {})[row["status"]] = row["n"]
    fields = []
    for name in INSIGHT_FIELDS:
        c = counts.get(name, {})
        fields.append(
            FieldStats(
                field=name,
                total=sum(c.values()),
                applied=c.get(PredictionStatus.APPLIED, 0),
                confirmed=c.get(PredictionStatus.CONFIRMED, 0),
                overridden=c.get(PredictionStatus.OVERRIDDEN, 0),
                abstained=c.get(PredictionStatus.ABSTAINED, 0) + c.get(PredictionStatus.OUT_OF_SCOPE, 0),
                skipped_human=c.get(PredictionStatus.SKIPPED_HUMAN, 0),
            )
        )
    decided = (PredictionStatus.APPLIED, PredictionStatus.CONFIRMED, PredictionStatus.OVERRIDDEN)
    per_week: dict[Any, dict[str, int]] = {}
    weekly = (
        predictions.filter(status__in=decided)
        .annotate(week=TruncWeek("created_at"))
        .values("week", "status")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    for week_row in weekly:
        per_week.setdefault(week_row["week"], {})[week_row["status"]] = week_row["n"]
    week_rows = [
        WeekAccuracy(
            week=week,
            decided=sum(c.values()),
            kept=c.get(PredictionStatus.APPLIED, 0) + c.get(PredictionStatus.CONFIRMED, 0),
        )
        for week, c in sorted(per_week.items(), key=lambda kv: kv[0])
    ]
    run_rows = TriageRun.objects.filter(workspace=workspace, created_at__gte=since)
    run_counts: dict[str, dict[str, int]] = {}
    for run_row in run_rows.values("step", "status").annotate(n=Count("id")).order_by():
        run_counts.setdefault(run_row["step"], {})[run_row["status"]] = run_row["n"]
    steps = []
    for step in STEP_ORDER:
        c = run_counts.get(step, {})
        durations = list(
            run_rows.filter(step=step, status=StepStatus.SUCCEEDED, duration_ms__isnull=False)
            .order_by("-created_at")
            .values_list("duration_ms", flat=True)[:2000]
        )
        steps.append(
            StepStats(
                step=step,
                runs=sum(c.values()),
                succeeded=c.get(StepStatus.SUCCEEDED, 0),
                skipped=c.get(StepStatus.SKIPPED, 0),
                failed=c.get(StepStatus.FAILED, 0),
                p50_ms=round(statistics.median(d for d in durations if d is not None)) if durations else None,
            )
        )
    models = list(ModelVersion.objects.filter(workspace=workspace).order_by("field", "-active", "-version")[:100])
    return AIInsights(since=since, fields=fields, weeks=week_rows, steps=steps, models=models)
