"""Outgoing webhooks: the endpoints a workspace registered, one delivery per (endpoint, event), and its attempts."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.models import TimeStamped, WorkspaceScoped
from pivotdesk.common.outbox import OutboxRow, OutboxStatus, outbox_indexes

PING_EVENT = "webhook.ping"


def secret_hint(secret: str) -> str:
    """What pages show of a secret: its prefix and last four characters (`whsec_…abcd`)."""
    prefix = secret.split("_", 1)[0] + "_" if "_" in secret[:8] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


class WebhookEndpoint(WorkspaceScoped):
    """A URL that receives signed POSTs for the events it subscribed to (none listed: every event)."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text=_("Event names; empty means every event."))
    # The signing secrets, encrypted at rest like channel secrets (`pivotdesk.common.crypto`): {"current": …,
    # "previous": …}. Never shown again after the response that created or rotated it; the hint is what pages show.
    secret_config = models.TextField(
        blank=True, editable=False, help_text=_("Encrypted signing secrets (HMAC-SHA256 of every delivery).")
    )
    secret_hint = models.CharField(max_length=32, blank=True, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=_("Until then deliveries are signed with the old secret too.")
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True, help_text=_("Set when disabled after repeated failures."))
    disabled_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "active"])]

    #: The secret in clear, set only on the instance a create or rotate service returns (to be shown once).
    issued_secret: str | None = None

    def __str__(self) -> str:
        return self.url

    @property
    def secret_set(self) -> bool:
        return bool(self.secret_config)

    @property
    def signing_secret(self) -> str:
        """The current secret, decrypted (for signing; never for display)."""
        return str(decrypt_json(self.secret_config).get("current", ""))

    def signing_secrets(self, at: dt.datetime) -> list[str]:
        """Every secret a delivery at `at` is signed with: the current one, and the previous one during its grace."""
        stored = decrypt_json(self.secret_config)
        out = [str(stored["current"])] if stored.get("current") else []
        expires = self.previous_secret_expires_at
        if stored.get("previous") and expires is not None and at < expires:
            out.append(str(stored["previous"]))
        return out

    def store_secret(self, secret: str, *, previous: str | None = None) -> None:
        """Encrypt and keep `secret` (and the one it replaces, for the grace period); set the display hint."""
        values: dict[str, object] = {"current": secret}
        if previous:
            values["previous"] = previous
        self.secret_config = encrypt_json(values)
        self.secret_hint = secret_hint(secret)

    @property
    def deliverable(self) -> bool:
        return self.active and self.disabled_at is None

    def wants(self, event_name: str) -> bool:
        """Whether this endpoint subscribed to the event (an empty list subscribes to all)."""
        return not self.event_types or event_name in self.event_types


# Deliveries use the one outbox vocabulary: queued → sending → sent | failed (see `pivotdesk.common.outbox`).
DeliveryStatus = OutboxStatus


class WebhookDelivery(WorkspaceScoped, OutboxRow):
    """One event for one endpoint, an outbox row (`pivotdesk.common.outbox`): claimed with a lease, retried with the
    shared back-off, failed with a reason after the attempt budget; every POST is a `WebhookAttempt`."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_name = models.CharField(max_length=64)
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField(default=dict)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_unique_event"),
        ]
        indexes = [models.Index(fields=["endpoint", "status", "-created_at"]), *outbox_indexes("webhook_delivery")]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(TimeStamped):
    """One HTTP POST of a delivery: what came back and how long it took (a failure is a row with a reason)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number", "pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
