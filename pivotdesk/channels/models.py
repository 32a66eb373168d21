"""Channels: configured accounts (mailboxes, bots, forms), the raw inbound store and the outbound outbox."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.models import WorkspaceScoped
from pivotdesk.common.outbox import OutboxRow, outbox_indexes


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email mailbox")
    WEB_FORM = "web_form", _("Web form")
    CHAT = "chat", _("Chat widget")
    WECHAT = "wechat", _("WeChat Official Account")
    WECOM = "wecom", _("WeCom customer service")
    TELEGRAM = "telegram", _("Telegram bot")
    WHATSAPP = "whatsapp", _("WhatsApp Cloud API")
    MESSENGER = "messenger", _("Facebook Messenger")
    LINE = "line", _("LINE")
    SMS = "sms", _("SMS (Twilio format)")
    GENERIC = "generic", _("Generic JSON webhook")
    CTI = "cti", _("Call centre (CTI)")


def _webhook_key() -> str:
    return secrets.token_urlsafe(18)


class ChannelAccount(WorkspaceScoped):
    """One configured channel: a mailbox, a bot, a form. Secrets are encrypted at rest."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True, help_text=_("Non-secret settings (hosts, ids, base URLs)."))
    secret_config = models.TextField(blank=True, help_text=_("Encrypted JSON of passwords and tokens."))
    webhook_key = models.CharField(max_length=40, unique=True, default=_webhook_key)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="channelaccount_unique_name")]
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def secrets(self) -> dict[str, object]:
        return decrypt_json(self.secret_config)

    def set_secrets(self, values: dict[str, object]) -> None:
        self.secret_config = encrypt_json(values)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (bounce, auto-reply, bulk)")
    DUPLICATE = "duplicate", _("Duplicate")
    FAILED = "failed", _("Failed")


class InboundPayload(WorkspaceScoped):
    """A raw inbound payload exactly as received, stored before parsing. Nothing is ever dropped silently."""

    account = models.ForeignKey(ChannelAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    raw = models.BinaryField()
    content_type = models.CharField(max_length=120, blank=True)
    meta = models.JSONField(default=dict, blank=True, help_text=_("Request headers, query, remote address, uid."))
    received_at = models.DateTimeField(db_index=True)
    dedupe_key = models.CharField(max_length=300, blank=True, help_text=_("channel:external id, when known."))
    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    reason = models.TextField(blank=True)
    classification = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a failure worth retrying (a locked database) is tried again.")
    )
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "-received_at"], name="inbound_ws_status"),
            models.Index(fields=["workspace", "dedupe_key"], name="inbound_ws_dedupe"),
            models.Index(fields=["retry_at"], condition=models.Q(retry_at__isnull=False), name="inbound_retry_due"),
            models.Index(fields=["received_at"], condition=models.Q(status="received"), name="inbound_received_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} payload #{self.pk} ({self.status})"


class OutboundMessage(WorkspaceScoped, OutboxRow):
    """A reply on its way to the customer through their channel: a row of the one outbox (`common.outbox`),
    claimed with a lease, retried with the shared back-off, failed with a reason after the attempt budget."""

    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE, related_name="outbound")
    account = models.ForeignKey(ChannelAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=ChannelKind.choices)
    recipient = models.CharField(max_length=255)
    provider_id = models.CharField(max_length=255, blank=True, help_text=_("Message-ID or the platform's id."))

    class Meta:
        indexes = outbox_indexes("channels_outbound")

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.status})"


class MailboxCheck(WorkspaceScoped):
    """One connection test of a mailbox (issue 18): who ran it, when, and each step's result as codes (worded when
    shown, `channels.mail_texts`). A test of a mailbox not saved yet has no account."""

    account = models.ForeignKey(
        ChannelAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="mailbox_checks"
    )
    checked_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    ok = models.BooleanField(default=False)
    preset = models.CharField(max_length=32, blank=True)
    steps = models.JSONField(default=list, blank=True, help_text=_("[{service, step, ok, code, params}]"))

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at"], name="mailboxcheck_account_recent")]

    def __str__(self) -> str:
        return f"mailbox check #{self.pk} ({'ok' if self.ok else 'failed'})"


class OAuthStatus(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    FAILED = "failed", _("Failed")


class MailboxOAuth(WorkspaceScoped):
    """A mailbox's OAuth2 grant (Office 365, Gmail): the refresh token and the current access token, encrypted, in a
    row of their own so a token refresh by the poller never races an admin saving the mailbox's settings."""

    account = models.OneToOneField(ChannelAccount, on_delete=models.CASCADE, related_name="oauth")
    provider = models.CharField(max_length=16)
    token_secret = models.TextField(blank=True, help_text=_("Encrypted JSON: refresh_token, access_token."))
    access_expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=OAuthStatus.choices, default=OAuthStatus.CONNECTED)
    error_code = models.CharField(max_length=64, blank=True, help_text=_("The provider's error code, or ours."))
    error_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider} grant of account #{self.account_id} ({self.status})"

    @property
    def tokens(self) -> dict[str, object]:
        return decrypt_json(self.token_secret)

    def set_tokens(self, values: dict[str, object]) -> None:
        self.token_secret = encrypt_json(values)
