"""Base models shared by every app: the workspace-scoped base and timestamps."""

from __future__ import annotations

from django.db import models

from pivotdesk.common.events import DomainEvent


class TimeStamped(models.Model):
    """Adds created_at / updated_at, both timezone-aware."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceScoped(TimeStamped):
    """Every domain row belongs to exactly one workspace (the tenant); selectors always filter by it."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class EventState(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class EventRecord(models.Model):
    """A domain event stored in the transaction of its change; the relay hands it to every subscriber.

    `done_subscribers` lists the subscribers that already succeeded, so a retry runs only the ones that failed.
    Done rows are kept for `PIVOTDESK_EVENTS_KEEP_DAYS` (replay, audit) and then pruned.
    """

    event_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=64)
    workspace_id = models.BigIntegerField()
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=8, choices=EventState.choices, default=EventState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    done_subscribers = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "common_event"
        indexes = [
            # The relay's scan: pending rows in order; a partial index stays small however many rows are done.
            models.Index(fields=["id"], name="common_event_pending", condition=models.Q(state="pending")),
            models.Index(fields=["state", "processed_at"], name="common_event_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.state})"

    def as_domain_event(self) -> DomainEvent:
        return DomainEvent(
            name=self.name, workspace_id=self.workspace_id, payload=dict(self.payload), id=str(self.event_id)
        )
