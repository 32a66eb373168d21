"""Tables of the sla app: business calendars, policies with targets and escalation levels, per-ticket clocks, and
the firing log that makes every warning, breach and escalation happen exactly once.

Which calendar a ticket's clocks use: the policy's calendar if it has one, else the calendar of the ticket's team
(TeamCalendar), else the workspace's default calendar (`is_default`), else "always open" in the workspace's time
zone. A policy's calendar wins because a promise made to a customer ("VIP: 30 business minutes") must not change
when the ticket moves between teams.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pivotdesk.common.calendars.hours import HoursError, parse_closed_dates, parse_weekly, parse_working_dates
from pivotdesk.common.models import WorkspaceScoped
from pivotdesk.sla.domain.conditions import ConditionError, Conditions

if TYPE_CHECKING:
    from pivotdesk.common.calendars.calendar import BusinessCalendar as DomainCalendar


class Metric(models.TextChoices):
    """What a target measures (values equal the domain's `clock.Metric`)."""

    FIRST_REPLY = "first_reply", pgettext_lazy("sla metric", "First reply")
    NEXT_REPLY = "next_reply", pgettext_lazy("sla metric", "Next reply")
    PERIODIC_UPDATE = "periodic_update", pgettext_lazy("sla metric", "Periodic update")
    RESOLUTION = "resolution", pgettext_lazy("sla metric", "Resolution")


DEFAULT_PAUSED_STATUSES = ["pending", "on_hold"]
PAUSABLE_STATUSES = ("new", "open", "pending", "on_hold")  # solved/closed stop every clock anyway


def condition_vocabulary() -> dict[str, list[str]]:
    """The allowed values of the string conditions of a policy."""
    from pivotdesk.common.choices import Channel
    from pivotdesk.customers.models import Tier
    from pivotdesk.tickets.models import Priority, TicketType

    return {
        "priorities": list(Priority.values),
        "tiers": list(Tier.values),
        "channels": list(Channel.values),
        "ticket_types": list(TicketType.values),
    }


def default_paused_statuses() -> list[str]:
    return list(DEFAULT_PAUSED_STATUSES)


def default_weekly_hours() -> dict[str, list[list[str]]]:
    """Monday–Friday 09:00–12:00 and 13:00–18:00 (a lunch break), weekends closed."""
    return {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)}


def default_warn_at_percent() -> list[int]:
    return [75, 90]


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone '%(tz)s'."), params={"tz": value}) from exc


class BusinessCalendar(WorkspaceScoped):
    """Working hours of a workspace, team or policy: weekly ranges per weekday (several, for a lunch break),
    a country's public holidays with make-up working days (调休) from `holidays`, and custom dates.

    weekly_hours: {"0": [["09:00","12:00"], ["13:00","18:00"]], …} (0 = Monday; a missing day is closed).
    closed_dates: ["2026-10-10", …]. working_dates: {"2026-10-11": [["09:00","18:00"]]} ([] = standard hours).
    """

    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="Asia/Shanghai", validators=[validate_time_zone])
    weekly_hours = models.JSONField(default=default_weekly_hours, blank=True)
    country = models.CharField(
        max_length=8, default="CN", blank=True, help_text=_("Country code for public holidays; empty for none.")
    )
    subdivision = models.CharField(max_length=16, blank=True, help_text=_("Province or state code, if any."))
    closed_dates = models.JSONField(default=list, blank=True, help_text=_("Extra dates on which you are closed."))
    working_dates = models.JSONField(
        default=dict, blank=True, help_text=_("Extra working dates (with their hours) that override weekends/holidays.")
    )
    is_default = models.BooleanField(default=False, help_text=_("Used when neither the policy nor the team has one."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="slacalendar_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="slacalendar_one_default"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Validate the hours JSON and the time zone (services call this before saving)."""
        try:
            weekly = parse_weekly(self.weekly_hours)
            parse_closed_dates(self.closed_dates)
            parse_working_dates(self.working_dates, weekly)
        except HoursError as exc:
            raise ValidationError(exc.errors) from exc
        try:
            validate_time_zone(self.time_zone)
        except ValidationError as exc:
            raise ValidationError({"time_zone": exc.messages}) from exc

    def cache_key(self) -> tuple[Any, ...]:
        """Everything the domain calendar depends on (the cache of `to_domain` is keyed by it)."""
        import json

        return (
            self.pk,
            self.time_zone,
            json.dumps(self.weekly_hours, sort_keys=True),
            self.country,
            self.subdivision,
            json.dumps(self.closed_dates, sort_keys=True),
            json.dumps(self.working_dates, sort_keys=True),
        )

    def to_domain(self, years: tuple[int, ...] | None = None) -> DomainCalendar:
        """The pure-Python calendar (with the country's holidays for `years`), cached per content and years."""
        from pivotdesk.sla.calendars import domain_calendar

        return domain_calendar(self, years)


class TeamCalendar(models.Model):
    """The business calendar a team works by (used when the ticket's policy names none)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="sla_calendar")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="teams")

    def __str__(self) -> str:
        return f"{self.team_id} → {self.calendar_id}"


class SLAPolicy(WorkspaceScoped):
    """An ordered, named set of service-level targets; the first active policy (by position) whose conditions match
    a ticket applies to it. Conditions: see `sla.domain.conditions.Conditions` (stored as JSON, validated)."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="policies"
    )
    paused_statuses = models.JSONField(
        default=default_paused_statuses, blank=True, help_text=_("Status categories in which the clocks stop.")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="slapolicy_unique_name")]
        indexes = [models.Index(fields=["workspace", "active", "position"], name="slapolicy_ws_active_pos")]
        ordering = ["position", "pk"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def parsed_conditions(self) -> Conditions:
        """The conditions as the typed model (raises ConditionError on a malformed stored value)."""
        return Conditions.from_json(self.conditions)

    def clean(self) -> None:
        """Conditions must use known names and values; paused statuses must be open statuses."""
        try:
            Conditions.from_json(self.conditions, allowed=condition_vocabulary())
        except ConditionError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc
        paused = self.paused_statuses
        if not isinstance(paused, list) or any(v not in PAUSABLE_STATUSES for v in paused):
            raise ValidationError({"paused_statuses": f"a list of {', '.join(PAUSABLE_STATUSES)}"})


class SLATarget(models.Model):
    """One promise of a policy for one priority: e.g. "urgent: first reply within 30 business minutes"."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=8)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=True, help_text=_("Count business hours only (else calendar)."))
    warn_at_percent = models.JSONField(default=default_warn_at_percent, blank=True)
    warn_minutes_before = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority", "metric"], name="slatarget_unique"),
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="slatarget_minutes_positive"),
        ]
        ordering = ["policy", "priority", "metric"]

    def __str__(self) -> str:
        return f"{self.policy_id}: {self.priority} {self.metric} {self.minutes} min"


class EscalationLevel(models.Model):
    """What happens after a breach: level n runs `minutes_after_breach` after the breach of `metric` (empty = any
    metric). Actions (JSON list, validated by services.escalation.parse_actions), e.g.
    [{"type": "notify", "to": "team_lead"}, {"type": "notify", "to": "agents", "agents": [3]},
     {"type": "notify", "to": "supervisors"}, {"type": "notify", "to": "assignee"},
     {"type": "reassign", "agent": 7} | {"type": "reassign", "team": 2},
     {"type": "raise_priority"} (one step) | {"type": "raise_priority", "to": "urgent"},
     {"type": "add_follower", "agent": 5}, {"type": "add_tag", "tag": "sla-escalated"}]."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    metric = models.CharField(max_length=16, choices=Metric.choices, blank=True, default="")
    minutes_after_breach = models.PositiveIntegerField(default=0)
    actions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "level", "metric"], name="slaescalation_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="slaescalation_level_positive"),
        ]
        ordering = ["policy", "level", "metric"]

    def __str__(self) -> str:
        return f"{self.policy_id}: level {self.level} {self.metric or 'any'}"


class ClockState(models.TextChoices):
    """Where one clock stands."""

    RUNNING = "running", pgettext_lazy("sla clock state", "Running")
    PAUSED = "paused", pgettext_lazy("sla clock state", "Paused")
    FULFILLED = "fulfilled", pgettext_lazy("sla clock state", "Achieved")
    BREACHED = (
        "breached",
        pgettext_lazy("sla clock state", "Breached"),
    )  # due passed; may still be fulfilled later (late)
    IDLE = (
        "idle",
        pgettext_lazy("sla clock state", "Not running"),
    )  # e.g. next reply with no unanswered customer message


class TicketSLA(WorkspaceScoped):
    """The current clock of one metric of one ticket (one row per ticket and metric; `cycle` counts restarts:
    next reply and periodic update start a new cycle on every customer message / update)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=0)
    target_minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=True)
    started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    elapsed_seconds = models.PositiveBigIntegerField(default=0)
    state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.RUNNING)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "metric"], name="ticketsla_unique_metric")]
        indexes = [
            models.Index(fields=["workspace", "metric", "due_at"], name="ticketsla_ws_metric_due"),
            models.Index(fields=["workspace", "breached_at"], name="ticketsla_ws_breached"),
        ]
        verbose_name = "ticket SLA clock"

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.metric} ({self.state})"


class SLAOutcome(WorkspaceScoped):
    """A finished cycle of a clock (achieved or breached), kept for compliance reports: one row per ticket, metric
    and cycle, with the policy and the ticket's priority, team and channel when it finished."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_outcomes")
    policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy_name = models.CharField(max_length=120, blank=True)
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=0)
    priority = models.CharField(max_length=8, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, blank=True)
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    achieved = models.BooleanField()
    finished_at = models.DateTimeField(db_index=True, help_text=_("Fulfilment, or breach if never fulfilled."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "cycle"], name="slaoutcome_unique_cycle"),
        ]
        indexes = [models.Index(fields=["workspace", "finished_at"], name="slaoutcome_ws_finished")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.metric}/{self.cycle} {'achieved' if self.achieved else 'breached'}"


class FiringKind(models.TextChoices):
    WARNING = "warning", pgettext_lazy("sla firing", "Warning")
    BREACH = "breach", pgettext_lazy("sla firing", "Breach")
    ESCALATION = "escalation", pgettext_lazy("sla firing", "Escalation")


class SLAFiring(WorkspaceScoped):
    """A warning, breach or escalation that happened. The unique key is the idempotency key: the scanner inserts
    the row first and only the inserter acts, so each fires once even with two schedulers running."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_firings")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=FiringKind.choices)
    label = models.CharField(max_length=32, help_text=_('Warning label ("75%", "30m") or escalation level.'))
    fired_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text=_("What was done: recipients, actions, errors."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "cycle", "kind", "label"], name="slafiring_unique_key"),
        ]
        indexes = [models.Index(fields=["workspace", "kind", "fired_at"], name="slafiring_ws_kind_fired")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.metric}/{self.cycle} {self.kind} {self.label}"


def year_span(start: dt.datetime, end: dt.datetime) -> tuple[int, ...]:
    """The calendar years a clock may touch (holidays are loaded per year)."""
    return tuple(range(start.year - 1, end.year + 2))


class SLACheckFailure(WorkspaceScoped):
    """A ticket whose SLA check crashed: the reason, how many checks in a row failed, and when the scanner tries
    again (back-off). Resolved (kept, with the last reason) when a later check succeeds; one row per ticket."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_check_failure")
    attempts = models.PositiveIntegerField(default=1, help_text=_("Failed checks in a row."))
    error = models.TextField(help_text=_("The exception of the last failed check."))
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    retry_at = models.DateTimeField(help_text=_("When the scanner checks the ticket again."))
    resolved_at = models.DateTimeField(null=True, blank=True, help_text=_("A later check succeeded."))

    class Meta:
        indexes = [models.Index(fields=["workspace", "resolved_at"], name="slacheckfailure_ws_resolved")]
        verbose_name = "SLA check failure"

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else f"{self.attempts} failed"
        return f"#{self.ticket_id} SLA check {state}: {self.error[:60]}"
