"""Survey tables: CSAT after a ticket is solved, NPS campaigns per organization, and the workspace's settings.

A survey keeps the facts of the moment it was sent (the agent who solved, the team, the category, the organization),
so a report still counts an answer where it belonged after the ticket moves on."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT)")
    NPS = "nps", _("Net Promoter Score (NPS)")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")  # CSAT waiting for the workspace's delay after the solve
    INVITED = "invited", _("Invited")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")  # the ticket was reopened before a delayed invitation went out


class CsatScale(models.TextChoices):
    FIVE = "five", _("1–5 stars")
    TWO = "two", _("Good / bad (😀 / 🙁)")


class Survey(WorkspaceScoped):
    """One invitation to one contact, and its answer (score, comment, "not solved")."""

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="surveys"
    )
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="surveys")
    organization = models.ForeignKey(
        "customers.CustomerOrganization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    campaign = models.ForeignKey(
        "surveys.NpsCampaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    #: The solve this CSAT survey asks about (the ticket's `solved_at`): one survey per ticket per solve cycle.
    solve_cycle_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, default="zh-hans")
    scale = models.CharField(max_length=8, choices=CsatScale.choices, default=CsatScale.FIVE)
    #: Random per survey; the link carries it signed with the installation's key (`tokens.py`), so neither a leaked
    #: database nor a guessed id is enough to answer.
    nonce = models.CharField(max_length=32)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.INVITED)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    not_solved = models.BooleanField(default=False)
    send_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "solve_cycle_at"],
                condition=Q(kind="csat"),
                name="survey_one_csat_per_solve",
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=10), name="survey_score_range"),
        ]
        indexes = [
            models.Index(fields=["workspace", "kind", "answered_at"], name="survey_ws_kind_answered"),
            models.Index(fields=["workspace", "kind", "invited_at"], name="survey_ws_kind_invited"),
            models.Index(fields=["contact", "kind", "invited_at"], name="survey_contact_kind_invited"),
            models.Index(fields=["status", "send_at"], name="survey_scheduled_due", condition=Q(status="scheduled")),
            models.Index(fields=["status", "expires_at"], name="survey_invited_expiry", condition=Q(status="invited")),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class NpsCampaign(WorkspaceScoped):
    """An NPS survey sent every `cadence_days` to the contacts of one organization (or of every organization)."""

    name = models.CharField(max_length=120)
    organization = models.ForeignKey(
        "customers.CustomerOrganization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    #: Optional wording per language ({"zh-hans": "…", "en": "…"}); empty: the standard NPS question.
    question = models.JSONField(default=dict, blank=True)
    cadence_days = models.PositiveIntegerField(default=90)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["active", "next_run_at"], name="nps_campaign_due")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class SurveySettings(WorkspaceScoped):
    """A workspace's CSAT switch and timing (one row per workspace; none means the defaults)."""

    csat_enabled = models.BooleanField(default=True)
    csat_delay_hours = models.PositiveIntegerField(default=0)
    csat_expiry_days = models.PositiveIntegerField(default=14)
    csat_scale = models.CharField(max_length=8, choices=CsatScale.choices, default=CsatScale.FIVE)
    nps_expiry_days = models.PositiveIntegerField(default=30)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="survey_settings_one_per_workspace")]

    def __str__(self) -> str:
        return f"survey settings of {self.workspace_id}"
