"""Tables of the notifications app: in-app notifications, per-agent preferences, apprise targets, delivery log."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.models import WorkspaceScoped
from pivotdesk.common.outbox import OutboxRow, outbox_indexes


class Notification(WorkspaceScoped):
    """One thing an agent should know about. Always shown in the app; external channels get `Delivery` rows.

    `recipient` is NULL only for a workspace broadcast (sent to the workspace's shared targets, e.g. a team's
    DingTalk group robot), which no agent sees in the app.
    """

    recipient = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64, help_text=_("Free-form, e.g. sla.breach or routing.assigned."))
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=2000, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    dedupe_key = models.CharField(max_length=255, blank=True)
    urgent = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_recipient_dedupe",
            ),
            models.UniqueConstraint(
                fields=["workspace", "dedupe_key"],
                condition=Q(recipient__isnull=True) & ~Q(dedupe_key=""),
                name="notification_unique_broadcast_dedupe",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent_idx"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def display_title(self) -> str:
        """The title in the active language, rendered from the kind and its facts (`render.render`)."""
        from pivotdesk.notifications.render import render

        return render(self).title

    @property
    def display_body(self) -> str:
        """The body in the active language."""
        from pivotdesk.notifications.render import render

        return render(self).body

    @property
    def kind_label(self) -> str:
        """The kind's label in the active language (the kind itself when it is not a known one)."""
        from pivotdesk.notifications.kinds import kind_label

        return kind_label(self.kind)


class NotificationPreference(WorkspaceScoped):
    """An agent's choices: which external channels each kind (or group of kinds) goes to, and quiet hours.

    `channels` maps a kind ("sla.breach"), a group ("sla.*") or the fallback "*" to a list of external channels
    ("email", "apprise"); in-app is always on. Kinds not covered use the defaults of `domain.kinds`.
    Quiet hours are in the agent's time zone (AgentProfile.time_zone); a window may cross midnight.
    """

    agent = models.OneToOneField(
        "accounts.AgentProfile", on_delete=models.CASCADE, related_name="notification_preference"
    )
    channels = models.JSONField(default=dict, blank=True)
    quiet_hours_enabled = models.BooleanField(default=False)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    urgent_overrides_quiet = models.BooleanField(
        default=True, help_text=_("Urgent notifications are sent during quiet hours.")
    )

    def __str__(self) -> str:
        return f"preferences of {self.agent_id}"


class NotificationTarget(WorkspaceScoped):
    """An apprise destination (dingtalk://…, wecom://…, tgram://…, json://…). The URL holds secrets, so it is
    stored encrypted; `agent` NULL makes it a workspace target that receives broadcasts of the kinds it lists."""

    agent = models.ForeignKey(
        "accounts.AgentProfile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_targets",
    )
    label = models.CharField(max_length=120)
    scheme = models.CharField(max_length=32, blank=True, help_text=_("The URL's scheme, kept in clear for display."))
    secret = models.TextField(blank=True, help_text=_("The apprise URL, encrypted."))
    kinds = models.JSONField(default=list, blank=True, help_text=_("Kinds or groups (sla.*); empty means every kind."))
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "agent", "active"])]
        ordering = ["label", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.scheme})"

    @property
    def url(self) -> str:
        return str(decrypt_json(self.secret).get("url", ""))

    @url.setter
    def url(self, value: str) -> None:
        self.secret = encrypt_json({"url": value})
        self.scheme = value.split("://", 1)[0].lower()[:32] if "://" in value else ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.pk, "label": self.label, "scheme": self.scheme, "kinds": self.kinds, "active": self.active}


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    APPRISE = "apprise", _("SMS / IM / push")


class DeliveryStatus(models.TextChoices):
    """The outbox's one vocabulary (`common.outbox.OutboxStatus`) plus two states of this app: *suppressed* (a
    channel that cannot work, terminal) and *standby* (a page's fallback channel, queued when another channel of
    the same page fails; the outbox never picks it up by itself)."""

    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    STANDBY = "standby", _("Standby (fallback)")


class Delivery(WorkspaceScoped, OutboxRow):
    """One notification to one external destination: the delivery log, a row of the one outbox (`common.outbox`).
    A queued row may be deferred to the end of quiet hours (`next_attempt_at` = `deferred_until`); a channel that
    cannot work is a *suppressed* row with the reason, never silence."""

    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=DeliveryChannel.choices)
    target = models.ForeignKey(
        NotificationTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    destination = models.CharField(max_length=255, help_text=_("The address or target label, for the log."))
    deferred_until = models.DateTimeField(null=True, blank=True, help_text=_("Held back by quiet hours until."))
    retries_requested = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel", "destination"], name="notification_delivery_unique_destination"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"], name="notif_delivery_status_idx"),
            *outbox_indexes("notif_delivery"),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.destination} ({self.status})"

    @property
    def error_display(self) -> str:
        """Why the last attempt failed, in the active language (`common.delivery_errors`)."""
        from pivotdesk.common.delivery_errors import describe

        return describe(self.last_error)
