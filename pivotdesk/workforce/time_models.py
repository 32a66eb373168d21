"""Time spent on tickets (issue 18): one row per manual entry, and one automatic row per agent, ticket and local day
that the ticket page's reports are merged into. Re-exported by `workforce.models`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped


class TimeSource(models.TextChoices):
    MANUAL = "manual", _("Logged by hand")
    AUTOMATIC = "automatic", _("Tracked automatically")


class TimeEntry(WorkspaceScoped):
    """Time an agent spent on a ticket: `seconds` from `started_at`, typed by hand or tracked while the ticket page
    was open and in use. The ticket's category when the entry was made is kept, so reports per category do not move
    when a ticket is re-categorised later."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="time_entries")
    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=TimeSource.choices, default=TimeSource.MANUAL)
    note = models.CharField(max_length=500, blank=True)
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Automatic entries: the local day (workspace time zone) they collect, and the open pages merged into them
    # ({page id: {"opened_at": iso, "credited": seconds}}), so a repeated report adds nothing.
    day = models.DateField(null=True, blank=True)
    pages = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "agent", "day"],
                condition=Q(source="automatic"),
                name="timeentry_one_automatic_per_day",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "started_at"], name="timeentry_ws_started"),
            models.Index(fields=["ticket", "agent"], name="timeentry_ticket_agent"),
        ]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.agent_id} {self.seconds}s {self.source}"
