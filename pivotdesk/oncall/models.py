"""Night duty (夜间值守): on-call schedules (layers, overrides), escalation policies with levels, pages (an incident
on a ticket) with their notices and one-click acknowledge links, partner providers with scoped ticket links, and the
after-hours answers the bot gives.

A page climbs its policy's levels until someone acknowledges it: `next_escalation_at` is the due time the scanner
looks for, and each step moves `level`/`cycle` under a row lock, so two scanners page once.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.models import WorkspaceScoped


class OnCallSchedule(WorkspaceScoped):
    """Who is on call, layer over layer, in one time zone. `calendar` decides working days for layers restricted to
    working or non-working days (China's 调休 make-up days count as working days)."""

    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="oncallschedule_unique_name")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class TurnKind(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    HOURS = "hours", _("Every N hours")


class RestrictionKind(models.TextChoices):
    NONE = "none", _("Always")
    DAILY = "daily", _("Every day between two times")
    WEEKLY = "weekly", _("Weekly windows")
    NON_WORKING = "non_working", _("Non-working days only (weekends, holidays)")
    WORKING = "working", _("Working days only")


class OnCallLayer(WorkspaceScoped):
    """One rotation: participants (agent ids, in order) take turns from `start` (local wall clock of the schedule).
    `restriction` holds {"windows": [["19:00", "08:00"]]} (daily) or [[weekday, "HH:MM", weekday, "HH:MM"], …]
    (weekly). A later position is on top."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="layers")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=120, blank=True)
    participants = models.JSONField(default=list)
    start = models.DateTimeField(help_text=_("Local wall-clock time of the first handoff (stored naive in UTC)."))
    turn_kind = models.CharField(max_length=8, choices=TurnKind.choices, default=TurnKind.WEEKLY)
    turn_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 28)])
    restriction_kind = models.CharField(max_length=16, choices=RestrictionKind.choices, default=RestrictionKind.NONE)
    restriction = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["schedule", "position", "pk"]


class OnCallOverride(WorkspaceScoped):
    """Someone covers a period of a schedule ("I cover Wang's Tuesday night")."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="oncalloverride_end_after")]
        ordering = ["start", "pk"]


class Partner(WorkspaceScoped):
    """A third-party provider (night service, spare-parts depot, remote guidance) brought in for single tickets.
    `targets` are apprise URLs (SMS, IM, webhook) and `emails` its addresses; it never signs in."""

    name = models.CharField(max_length=120)
    organization = models.ForeignKey(
        "customers.CustomerOrganization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emails = models.JSONField(default=list, blank=True)
    targets_secret = models.TextField(blank=True, help_text=_("The apprise URLs, encrypted (they hold keys)."))
    language = models.CharField(max_length=16, default="zh-hans")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="partner_unique_name")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def targets(self) -> list[str]:
        """The apprise URLs in clear (for sending and for the form that edits them); stored encrypted."""
        if not self.targets_secret:
            return []
        urls = decrypt_json(self.targets_secret).get("urls", [])
        return [str(u) for u in urls] if isinstance(urls, list) else []

    @targets.setter
    def targets(self, value: list[str]) -> None:
        self.targets_secret = encrypt_json({"urls": list(value)}) if value else ""

    @property
    def target_schemes(self) -> list[str]:
        """What the targets are, without their secrets (for lists): "dingtalk", "json", …"""
        return [u.split("://", 1)[0].lower() if "://" in u else "?" for u in self.targets]


class EscalationPolicy(WorkspaceScoped):
    """Which tickets page (conditions) and who, level by level. `conditions` holds lists of priorities, category
    ids, tiers, channels, keywords, SLA states, and "outside_hours": true (outside the business hours of the ticket's
    calendar). The first active policy (by position) whose conditions match pages."""

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    repeat = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(9)])
    fallback_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="escalationpolicy_unique_name")]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class TargetKind(models.TextChoices):
    AGENT = "agent", _("A person")
    SCHEDULE = "schedule", _("Whoever is on call")
    PARTNER = "partner", _("A partner provider")


class EscalationStep(WorkspaceScoped):
    """One level of a policy: who is paged, and how long they have to acknowledge before the next level."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    timeout_minutes = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    target_kind = models.CharField(max_length=16, choices=TargetKind.choices)
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule = models.ForeignKey(OnCallSchedule, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["policy", "position", "pk"]


class PageStatus(models.TextChoices):
    TRIGGERED = "triggered", _("Paging")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    EXHAUSTED = "exhausted", _("Nobody acknowledged")


class Page(WorkspaceScoped):
    """An incident on a ticket: paged level by level until acknowledged."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="pages")
    policy = models.ForeignKey(EscalationPolicy, null=True, on_delete=models.SET_NULL, related_name="pages")
    status = models.CharField(max_length=16, choices=PageStatus.choices, default=PageStatus.TRIGGERED)
    level = models.PositiveSmallIntegerField(default=0)
    cycle = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="triggered"), name="page_one_open_per_ticket")
        ]
        ordering = ["-created_at", "-pk"]


class PageNotice(WorkspaceScoped):
    """One person (or partner) paged at one level: the single-use acknowledge link's secret is kept hashed."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notices")
    level = models.PositiveSmallIntegerField()
    cycle = models.PositiveSmallIntegerField(default=0)
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    resolve_hash = models.CharField(max_length=64, unique=True)
    resolve_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["page", "level", "pk"]


class PartnerAccess(WorkspaceScoped):
    """A partner's scoped, expiring link to one ticket: what the agent chose to share, nothing else."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="accesses")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="partner_accesses")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    shared_message_ids = models.JSONField(default=list, blank=True)
    share_all = models.BooleanField(default=False)
    parts_dispatched_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]


class AfterHoursAnswer(WorkspaceScoped):
    """A standard question the bot answers after hours (order status, coupon rules, opening hours): keywords in
    either language → the answer in zh and en."""

    name = models.CharField(max_length=120)
    keywords = models.JSONField(default=list)
    answer_zh = models.TextField()
    answer_en = models.TextField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
