"""Portal tables: sign-in tokens, organization managers, customers' notice preferences, the workspace's portal
theme, and the outbox of customer notices (magic links, codes, progress notices, survey invitations)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped
from pivotdesk.common.outbox import OutboxRow, outbox_indexes


class SignInKind(models.TextChoices):
    LINK = "link", _("Magic link")
    CODE = "code", _("One-time code")


class SignInToken(WorkspaceScoped):
    """A single-use, expiring proof that a customer holds an e-mail address or phone: only its keyed hash is kept."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=SignInKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Wrong codes entered against this token."))
    next_path = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "-created_at"], name="portal_token_contact")]

    def __str__(self) -> str:
        return f"{self.kind} for contact {self.contact_id}"


class OrganizationManager(WorkspaceScoped):
    """A contact who sees every request of an organization in the portal (set by agents)."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("customers.CustomerOrganization", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "organization"], name="portal_org_manager_unique"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} manages organization {self.organization_id}"


class NoticeChannel(models.TextChoices):
    AUTO = "auto", _("Automatic (the channel I wrote from)")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class CustomerPreference(WorkspaceScoped):
    """A customer's portal settings: progress notices on or off, their channel, and the language they read."""

    contact = models.OneToOneField("customers.Contact", on_delete=models.CASCADE, related_name="portal_preference")
    progress_notices = models.BooleanField(default=True)
    survey_notices = models.BooleanField(default=True)
    channel = models.CharField(max_length=8, choices=NoticeChannel.choices, default=NoticeChannel.AUTO)
    language = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return f"preferences of contact {self.contact_id}"


class PortalTheme(WorkspaceScoped):
    """How a workspace's portal and help centre look: logo, colours, title, and the custom domain it answers on."""

    title = models.CharField(max_length=120, blank=True)
    title_zh = models.CharField(max_length=120, blank=True)
    primary_color = models.CharField(max_length=7, default="#1a64d8")
    accent_color = models.CharField(max_length=7, default="#0e7a3d")
    logo = models.FileField(upload_to="portal/logos/", blank=True)
    custom_domain = models.CharField(max_length=253, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="portal_theme_one_per_workspace"),
            models.UniqueConstraint(
                fields=["custom_domain"], condition=~Q(custom_domain=""), name="portal_theme_domain_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"portal theme of workspace {self.workspace_id}"


class NoticeKind(models.TextChoices):
    SIGN_IN_LINK = "signin_link", _("Sign-in link")
    SIGN_IN_CODE = "signin_code", _("Sign-in code")
    PROGRESS = "progress", _("Progress notice")
    SURVEY = "survey", _("Survey invitation")


class CustomerNotice(WorkspaceScoped, OutboxRow):
    """A message to a customer on its way through their channel: a row of the one outbox. It keeps facts (`kind`,
    `data`, `language`); the words are rendered at send time in that language. `dedupe_key` makes a notice for
    one event exactly one row."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    channel = models.CharField(max_length=16)
    recipient = models.CharField(max_length=255)
    account = models.ForeignKey(
        "channels.ChannelAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=16)
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    provider_id = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [*outbox_indexes("portal_notice"), models.Index(fields=["contact", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "dedupe_key"], name="portal_notice_dedupe"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"
