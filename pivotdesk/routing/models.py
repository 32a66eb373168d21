"""Tables of the routing app: policies, category skills, leave, decisions, the waiting queue, field service."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import TimeStamped, WorkspaceScoped


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS_BEST_FIT = "skills_best_fit", _("Skills best fit")
    WEIGHTED = "weighted", _("Weighted multi-factor score")


class Trigger(models.TextChoices):
    NEW = "new", _("New ticket")
    REOPEN = "reopen", _("Reopened")
    OFFLINE = "offline", _("Agent went offline or away")
    DECLINE = "decline", _("Declined by the agent")
    OVERRIDE = "override", _("Supervisor override")
    QUEUE = "queue", _("Waiting queue")


def default_weights() -> dict[str, float]:
    return {
        "skill": 3.0,
        "language": 2.0,
        "load": 2.0,
        "value": 1.5,
        "impact": 1.0,
        "geography": 1.0,
        "continuity": 1.0,
        "fairness": 0.5,
    }


class RoutingPolicy(WorkspaceScoped):
    """How tickets that match the conditions are routed: strategy, weights, pool, timeout, overflow.

    The first active policy (by position) whose conditions all match a ticket routes it. `conditions` is
    validated by `services.policies.clean_conditions` (lists of channels, category ids, priorities, tiers,
    languages and tags; an empty or missing list matches anything)."""

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.WEIGHTED)
    weights = models.JSONField(default=default_weights, blank=True)
    seniority_by_tier = models.JSONField(
        default=dict, blank=True, help_text=_('Minimum seniority (1–4) per customer tier, e.g. {"vip": 3}.')
    )
    require_language = models.BooleanField(default=True)
    max_distance_km = models.FloatField(null=True, blank=True, help_text=_("On-site work only: farthest engineer."))
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text=_("The pool.")
    )
    overflow_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skill_timeout_seconds = models.PositiveIntegerField(default=300)
    relax_enabled = models.BooleanField(default=True)
    reroute_on_offline = models.BooleanField(default=True)
    reroute_on_away = models.BooleanField(default=False)
    batch_threshold = models.PositiveIntegerField(default=20)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="routingpolicy_unique_name")]
        indexes = [models.Index(fields=["workspace", "active", "position"])]
        verbose_name_plural = "routing policies"

    def __str__(self) -> str:
        return self.name


class CategorySkill(WorkspaceScoped):
    """A skill (with a minimum level) that tickets of a category, or of its sub-categories, require."""

    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    skill = models.ForeignKey("accounts.Skill", on_delete=models.CASCADE, related_name="+")
    min_level = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "skill"], name="categoryskill_unique")]

    def __str__(self) -> str:
        return f"{self.category_id} needs {self.skill_id} ≥ {self.min_level}"


class RoutingDecision(models.Model):
    """One routing decision with its explanation: candidates, factor scores, why the winner won, what was
    relaxed. `agent` is null when nobody could take the ticket (it then waits in the queue)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="routing_decisions")
    policy = models.ForeignKey(RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="routing_decisions"
    )
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    relax_level = models.PositiveSmallIntegerField(default=0)
    relaxed = models.JSONField(default=list, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    reason_data = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    by = models.ForeignKey("accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="routingdec_ticket"),
            models.Index(fields=["workspace", "agent", "created_at"], name="routingdec_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} #{self.ticket_id} → {self.agent_id}"


QUEUE_ORDER = (F("priority_rank").desc(), F("sla_due_at").asc(nulls_last=True), "since", "pk")


class QueuedTicket(models.Model):
    """A routable ticket nobody could take yet. It waits, visibly, with its last reason, until capacity frees up;
    ordered by priority (urgent first), SLA due time, then age."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="routing_queue")
    policy = models.ForeignKey(RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority_rank = models.PositiveSmallIntegerField(default=1)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField()
    relax_level = models.PositiveSmallIntegerField(default=0)
    overflowed = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_reason = models.TextField(blank=True)
    # The same reason as data (`RoutingDecision.reason_data`), rendered in the reader's language.
    last_reason_data = models.JSONField(default=dict, blank=True)
    excluded_agent_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = list(QUEUE_ORDER)
        indexes = [models.Index(fields=["workspace", "next_attempt_at"], name="routingqueue_due")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} waiting since {self.since:%Y-%m-%d %H:%M}"


class Device(WorkspaceScoped):
    """A customer's installed device that field engineers repair on site; its site gives the location."""

    organization = models.ForeignKey(
        "customers.CustomerOrganization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=120, blank=True)
    serial = models.CharField(max_length=120, blank=True)
    site_name = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})" if self.serial else self.name


class Part(WorkspaceScoped):
    """A spare part kept in stock."""

    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    stock = models.IntegerField(default=0)

    class Meta:
        ordering = ["sku"]
        constraints = [models.UniqueConstraint(fields=["workspace", "sku"], name="part_unique_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class TicketDevice(TimeStamped):
    """The device a ticket is about; `onsite` marks that it needs an engineer on site (routed by distance)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="routing_device")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="ticket_links")
    onsite = models.BooleanField(default=True)


class DevicePartUsage(WorkspaceScoped):
    """Parts used on a device during a repair (the device's history of what it usually needs)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="part_usages")
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="usages")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
