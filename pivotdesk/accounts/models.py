"""Workspaces (tenants), users, agent profiles (a user's membership in a workspace), teams, skills, API tokens."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import TimeStamped, WorkspaceScoped
from pivotdesk.common.outbox import OutboxRow, outbox_indexes


class Workspace(TimeStamped):
    """A tenant: one service organisation. Every domain row belongs to one."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    default_language = models.CharField(max_length=16, default="zh-hans")
    languages = models.JSONField(default=list, blank=True, help_text=_("Languages the workspace serves."))
    settings = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. Their role lives on the AgentProfile of each workspace they belong to."""

    display_name = models.CharField(max_length=150, blank=True)
    preferred_language = models.CharField(max_length=16, blank=True)

    @property
    def label(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    LIGHT_AGENT = "light_agent", _("Light agent")


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Seniority(models.IntegerChoices):
    JUNIOR = 1, _("Junior")
    INTERMEDIATE = 2, _("Intermediate")
    SENIOR = 3, _("Senior")
    EXPERT = 4, _("Expert")


class TicketAccess(models.TextChoices):
    ALL = "all", _("All tickets in the workspace")
    TEAMS = "teams", _("Tickets of my teams and mine")
    ASSIGNED = "assigned", _("Only tickets assigned to me or that I follow")


def default_capacity() -> dict[str, int]:
    return {"email": 10, "chat": 3, "messaging": 5, "voice": 1}


class AgentProfile(WorkspaceScoped):
    """A user's membership in one workspace: role, skills, languages, capacity, location, presence."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agent_profiles")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    ticket_access = models.CharField(max_length=16, choices=TicketAccess.choices, default=TicketAccess.ALL)
    is_active = models.BooleanField(default=True)
    languages = models.JSONField(default=list, blank=True)
    capacity = models.JSONField(default=default_capacity, blank=True, help_text=_("Max open tickets per channel type."))
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai")
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    seniority = models.IntegerField(choices=Seniority.choices, default=Seniority.INTERMEDIATE)
    signature = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="agent_unique_user_per_workspace")]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.user.label

    @property
    def name(self) -> str:
        return self.user.label


class Team(WorkspaceScoped):
    """A group of agents that tickets can be assigned to."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(AgentProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    members = models.ManyToManyField(AgentProfile, related_name="teams", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="team_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(WorkspaceScoped):
    """Something an agent can be good at (a product, a language of the trade, a procedure)."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="skill_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentSkill(models.Model):
    """An agent's level (1–5) in a skill."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)], default=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agentskill_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="agentskill_level_1_5"),
        ]


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")
    ADMIN = "admin", _("Admin")


class ApiToken(WorkspaceScoped):
    """A per-user API token. Only a SHA-256 hash of the secret is stored; the secret is shown once."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginEvent(models.TextChoices):
    FAILED = "failed", _("Failed sign-in")
    LOCKED_OUT = "locked_out", _("Locked out")
    TWO_FACTOR_FAILED = "2fa_failed", _("Wrong two-factor code")


class LoginAudit(models.Model):
    """One failed sign-in or lock-out (agent login and Django admin alike): who was tried, from where, when.

    Global like users (a login is not yet in a workspace). `username` is what was typed, whether or not such an
    account exists; `user` is set when it does."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event = models.CharField(max_length=16, choices=LoginEvent.choices)
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    address = models.GenericIPAddressField(null=True, blank=True)
    scope = models.CharField(max_length=16, blank=True, help_text=_("What was locked: account or address."))

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.event} {self.username} {self.address or ''}"


class TwoFactorDevice(models.Model):
    """An agent's authenticator app (TOTP, RFC 6238): optional, per user (global like users, so it guards every
    workspace of the user). The shared secret is encrypted at rest (`common.crypto`, rotated by
    `rotate_field_key`); recovery codes are stored as SHA-256 hashes and each works once. `last_used_step` refuses a
    code that was used already (replay within its 30-second window)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    secret_config = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    recovery_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"2FA of {self.user_id} ({'on' if self.confirmed_at else 'being set up'})"


class Invitation(WorkspaceScoped, OutboxRow):
    """An invitation by e-mail to join a workspace with a role (and teams): a row of the one outbox (the mail).

    Only a SHA-256 hash of the link's secret is stored; the secret travels once, in the mail. Accepting it sets a
    password for a new person, or adds the membership to an existing user, and makes the row used. Resending
    issues a new secret (the old link stops working) and a new expiry."""

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    language = models.CharField(max_length=16, blank=True, help_text=_("The language of the mail and the page."))
    invited_by = models.ForeignKey(AgentProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [*outbox_indexes("accounts_invitation"), models.Index(fields=["workspace", "email"])]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.workspace_id}"

    @property
    def is_pending(self) -> bool:
        """Neither accepted nor revoked (it may still have expired: see `state`)."""
        return self.accepted_at is None and self.revoked_at is None

    def state(self, at: datetime.datetime) -> str:
        """accepted / revoked / expired / pending, at the given time."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= at else "pending"
