"""Knowledge base: categories (a section is a category with a parent), articles in Chinese or English linked as
translations of one another, and every saved version of an article."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (agents only)")
    PUBLIC = "public", _("Public (customers and the bot)")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ArticleLanguage(models.TextChoices):
    ZH = "zh-hans", _("Chinese")
    EN = "en", _("English")


class KnowledgeCategory(WorkspaceScoped):
    """A category of articles, or a section of one (`parent`); names in both languages."""

    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="sections")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "parent", "name_zh"], name="knowledge_category_unique_name")
        ]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name_zh


class Article(WorkspaceScoped):
    """One article in one language. Translations share `group` (one article per language in a group). `version`
    counts the saves that changed the title or the body; each is an `ArticleVersion`."""

    group = models.UUIDField(default=uuid.uuid4, db_index=True)
    language = models.CharField(max_length=8, choices=ArticleLanguage.choices, default=ArticleLanguage.ZH)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)  # Markdown
    category = models.ForeignKey(KnowledgeCategory, null=True, blank=True, on_delete=models.SET_NULL)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL)
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    owner = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_due = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "group", "language"], name="knowledge_article_one_per_language"
            )
        ]
        indexes = [models.Index(fields=["workspace", "status", "visibility"], name="knowledge_article_list_idx")]
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(WorkspaceScoped):
    """What an article said at one version, and who saved it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    saved_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="knowledge_version_unique")]
        ordering = ["-version"]


class RootCause(WorkspaceScoped):
    """A root-cause / resolution code in the workspace's tree ("物流 › 偏远地区配送延迟"), with the solution
    template (an article) that answers it."""

    code = models.SlugField(max_length=64)
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    template = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "code"], name="knowledge_rootcause_unique_code")]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Resolution(WorkspaceScoped):
    """How a ticket was resolved: the root cause an agent set at solve time (and what the model had suggested), the
    article or template that solved it, and the solution in the agent's words. `succeeded` turns False when the
    ticket is reopened."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="resolution")
    root_cause = models.ForeignKey(RootCause, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggested = models.ForeignKey(RootCause, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggested_confidence = models.FloatField(null=True, blank=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    solution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "root_cause"], name="knowledge_resolution_cause_idx")]


class AssistKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    TICKET = "ticket", _("Similar ticket")
    REPLY = "reply", _("Suggested reply")
    ROOT_CAUSE = "root_cause", _("Root cause")
    TIP = "tip", _("Tip")


class AssistFeedback(WorkspaceScoped):
    """What an agent did with one suggestion on one ticket: inserted it (`used`), or said it was useful or not.
    The ranking learns from these."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=AssistKind.choices)
    object_id = models.PositiveBigIntegerField()
    query = models.CharField(max_length=255, blank=True)
    useful = models.BooleanField(null=True, blank=True)
    used = models.BooleanField(default=False)
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "object_id", "agent"], name="knowledge_feedback_once")
        ]
        indexes = [models.Index(fields=["workspace", "kind", "object_id"], name="knowledge_feedback_obj_idx")]


class EntityKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    MODEL = "model", _("Model")
    COMPONENT = "component", _("Component")
    FAULT_CODE = "fault_code", _("Fault code")
    SYMPTOM = "symptom", _("Symptom")
    SOLUTION = "solution", _("Solution")
    PART = "part", _("Part")
    OS = "os", _("OS / version")


class GraphEntity(WorkspaceScoped):
    """A node of the knowledge graph: a product, model, fault code, symptom, solution, … `key` is the normalised
    name; `aliases` are other spellings the catalogue knows (matched in text)."""

    kind = models.CharField(max_length=16, choices=EntityKind.choices)
    key = models.CharField(max_length=120)
    label = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True)
    catalogued = models.BooleanField(default=False, help_text=_("Entered in the workspace's catalogue."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "kind", "key"], name="knowledge_entity_unique")]
        ordering = ["kind", "key"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.label}"


class Mention(WorkspaceScoped):
    """An entity found in a ticket or an article (the evidence behind the graph's edges)."""

    entity = models.ForeignKey(GraphEntity, on_delete=models.CASCADE, related_name="mentions")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "ticket"], name="knowledge_mention_ticket_once"),
            models.UniqueConstraint(fields=["entity", "article"], name="knowledge_mention_article_once"),
        ]


class GraphEdge(WorkspaceScoped):
    """Two entities seen together: `weight` counts the tickets and articles that mention both; `successes` and
    `trials` count resolved tickets where one is a solution and it worked (for a solution–context edge)."""

    source = models.ForeignKey(GraphEntity, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(GraphEntity, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    trials = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="knowledge_edge_unique")]


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ArticleProposal(WorkspaceScoped):
    """A draft article, or an update to an existing one (`target`), proposed from a resolved ticket whose solution
    no article covered, or a review an article needs (falling success, negative feedback, no use). `flags` are what
    the reviewer should check (a near duplicate, a solution that failed on similar tickets)."""

    class Reason(models.TextChoices):
        NEW_SOLUTION = "new_solution", _("A solution no article covers")
        UPDATE = "update", _("An addition to an article")
        FALLING_SUCCESS = "falling_success", _("Success is falling")
        NEGATIVE_FEEDBACK = "negative_feedback", _("Negative feedback")
        UNUSED = "unused", _("Not used for a long time")

    reason = models.CharField(max_length=24, choices=Reason.choices)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="proposals")
    duplicate_of = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(max_length=8, choices=ArticleLanguage.choices, default=ArticleLanguage.ZH)
    title = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    decided_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "ticket", "reason"],
                condition=models.Q(ticket__isnull=False),
                name="knowledge_proposal_once_per_ticket",
            )
        ]
        indexes = [models.Index(fields=["workspace", "status"], name="knowledge_proposal_status_idx")]


class BotOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    HANDED_OVER = "handed_over", _("Handed over to a person")
    SOLVED = "solved", _("Solved by the answer")
    NOT_SOLVED = "not_solved", _("Not solved by the answer")


class BotAnswer(WorkspaceScoped):
    """One question the bot looked at: what it answered (the article and its confidence) or why it handed over,
    and what the customer said afterwards (solved / not solved)."""

    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=32, blank=True)
    question = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField(default=0.0)
    outcome = models.CharField(max_length=16, choices=BotOutcome.choices)
    reason = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "outcome"], name="knowledge_bot_outcome_idx")]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(WorkspaceScoped):
    """One import of articles (a Markdown folder as a zip, CSV, a Zendesk Guide or Zammad KB JSON export): the raw
    upload is kept before it is parsed; `done` of `total` drives the progress bar; `problems` lists the items that
    could not be imported, each with a reason."""

    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16)
    payload = models.BinaryField()
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    started_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
