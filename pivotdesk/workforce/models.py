"""Workforce management (排班): queues and their history, forecasts, contracts and shift templates, rosters and
their shifts, leave, and the requests agents make (swap, open-shift pick-up, leave, overtime).

Times are stored as aware datetimes (UTC in the database) and shown in the workspace's time zone; a roster covers
whole local days. Workforce owns availability: `selectors.on_shift` answers "is agent X scheduled at t, for which
skill" for routing and for night duty.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped

INTERVALS = (5, 15, 30, 60)


class QueueKind(models.TextChoices):
    REALTIME = "realtime", _("Real time (calls, chat): Erlang")
    ASYNC = "async", _("Asynchronous (email, forms, messaging): workload")


class WorkQueue(WorkspaceScoped):
    """A stream of contacts forecast and staffed together: channel types and/or a team and/or categories."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=QueueKind.choices, default=QueueKind.ASYNC)
    channel_types = models.JSONField(default=list, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    categories = models.ManyToManyField("tickets.Category", blank=True, related_name="+")
    skill = models.ForeignKey(
        "accounts.Skill",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The skill an agent needs to serve this queue."),
    )
    interval_minutes = models.PositiveSmallIntegerField(default=30, choices=[(i, str(i)) for i in INTERVALS])
    target_percent = models.FloatField(default=80.0, validators=[MinValueValidator(1), MaxValueValidator(100)])
    target_seconds = models.PositiveIntegerField(default=20)
    asa_seconds = models.PositiveIntegerField(null=True, blank=True)
    patience_seconds = models.PositiveIntegerField(null=True, blank=True)
    reply_target_minutes = models.PositiveIntegerField(null=True, blank=True)
    shrinkage = models.FloatField(default=0.3, validators=[MinValueValidator(0), MaxValueValidator(0.9)])
    max_occupancy = models.FloatField(default=0.85, validators=[MinValueValidator(0.1), MaxValueValidator(1)])
    default_aht_seconds = models.PositiveIntegerField(default=300)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="workqueue_unique_name")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class HistorySource(models.TextChoices):
    DESK = "desk", _("This desk's tickets")
    IMPORT = "import", _("Imported file")


class VolumePoint(WorkspaceScoped):
    """Contacts that arrived in one interval of a queue, and the time spent handling them."""

    queue = models.ForeignKey(WorkQueue, on_delete=models.CASCADE, related_name="history")
    start = models.DateTimeField()
    interval_minutes = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()
    handled = models.PositiveIntegerField(default=0)
    handle_seconds = models.FloatField(default=0.0)
    source = models.CharField(max_length=8, choices=HistorySource.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "interval_minutes", "source", "start"], name="volumepoint_unique_slot"
            )
        ]
        ordering = ["start"]


class ImportStatus(models.TextChoices):
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected")


class HistoryImport(WorkspaceScoped):
    """An uploaded history file, kept as received (before parsing) with what came of it."""

    queue = models.ForeignKey(WorkQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports")
    file_name = models.CharField(max_length=255, blank=True)
    raw = models.BinaryField()
    interval_minutes = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(max_length=16, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]


class ForecastEvent(WorkspaceScoped):
    """A known peak or dip (双十一 ×5 from 14:00, a product launch): multiplies the forecast in its period."""

    queue = models.ForeignKey(WorkQueue, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=120)
    start = models.DateTimeField()
    end = models.DateTimeField()
    multiplier = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(100)])
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="forecastevent_end_after")]
        ordering = ["start", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ×{self.multiplier:g}"


class ForecastStatus(models.TextChoices):
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Forecast(WorkspaceScoped):
    """A forecast of one queue: per interval the expected contacts (with an interval band) and handle time.

    `points` is a list of [iso start, mean, lo, hi, aht seconds]; `backtest` holds WAPE/MAPE of the chosen model
    (rolling origin on the history) and of the seasonal-naive baseline."""

    queue = models.ForeignKey(WorkQueue, on_delete=models.CASCADE, related_name="forecasts")
    interval_minutes = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    model = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=ForecastStatus.choices, default=ForecastStatus.READY)
    error = models.TextField(blank=True)
    points = models.JSONField(default=list, blank=True)
    backtest = models.JSONField(default=dict, blank=True)
    history_points = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["queue", "-created_at"], name="forecast_latest_idx")]
        ordering = ["-created_at", "-pk"]


class Contract(WorkspaceScoped):
    """Labour rules one group of agents works under."""

    name = models.CharField(max_length=120)
    min_hours_week = models.FloatField(default=0, validators=[MinValueValidator(0), MaxValueValidator(168)])
    max_hours_week = models.FloatField(default=40, validators=[MinValueValidator(1), MaxValueValidator(168)])
    min_rest_hours = models.FloatField(default=11, validators=[MinValueValidator(0), MaxValueValidator(48)])
    max_consecutive_days = models.PositiveSmallIntegerField(default=6, validators=[MinValueValidator(1)])
    max_night_shifts_week = models.PositiveSmallIntegerField(default=7)
    min_days_off_week = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(7)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="contract_unique_name"),
            models.CheckConstraint(
                condition=Q(max_hours_week__gte=F("min_hours_week")), name="contract_max_hours_gte_min"
            ),
        ]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ShiftKind(models.TextChoices):
    EARLY = "early", _("Early")
    DAY = "day", _("Day")
    LATE = "late", _("Late")
    NIGHT = "night", _("Night")


class ShiftTemplate(WorkspaceScoped):
    """A shift the solver may place: start time, length, an unpaid lunch placed inside its window, paid breaks."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=ShiftKind.choices, default=ShiftKind.DAY)
    start_time = models.TimeField()
    length_minutes = models.PositiveIntegerField(validators=[MinValueValidator(30), MaxValueValidator(16 * 60)])
    unpaid_break_minutes = models.PositiveIntegerField(default=0)
    break_earliest_minutes = models.PositiveIntegerField(default=0, help_text=_("Lunch starts at least this late."))
    break_latest_minutes = models.PositiveIntegerField(default=0, help_text=_("Lunch starts at the latest then."))
    paid_break_minutes = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="shifttemplate_unique_name")]
        ordering = ["start_time", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_night(self) -> bool:
        return self.kind == ShiftKind.NIGHT


class WorkforceProfile(WorkspaceScoped):
    """How an agent is rostered: contract, allowed shifts, when they cannot work, what they prefer.

    `unavailable` maps a weekday (0 = Monday) to [[start minute, end minute], …]; `preferences` holds
    {"days_off": [weekdays], "templates": [ids], "avoid_nights": bool}."""

    agent = models.OneToOneField("accounts.AgentProfile", on_delete=models.CASCADE, related_name="workforce")
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents")
    rosterable = models.BooleanField(default=True)
    templates = models.ManyToManyField(ShiftTemplate, blank=True, related_name="+")
    unavailable = models.JSONField(default=dict, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    calendar_token = models.CharField(max_length=64, blank=True)


class RosterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class Roster(WorkspaceScoped):
    """A plan of shifts for whole local days [start_date, end_date]. Versioned: re-planning a published roster
    creates the next version (a draft) and publishing it supersedes the previous one."""

    start_date = models.DateField()
    end_date = models.DateField()
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=RosterStatus.choices, default=RosterStatus.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    interval_minutes = models.PositiveSmallIntegerField(default=30)
    solver = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "start_date", "version"], name="roster_unique_version"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="roster_end_after_start"),
        ]
        ordering = ["-start_date", "-version"]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date} v{self.version}"


class ShiftSource(models.TextChoices):
    SOLVER = "solver", _("Planned")
    MANUAL = "manual", _("Edited")
    SWAP = "swap", _("Swapped")
    PICKUP = "pickup", _("Picked up")
    OVERTIME = "overtime", _("Overtime")


class Shift(WorkspaceScoped):
    """One agent's shift (or an open shift, with no agent, that anyone may pick up)."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="shifts")
    agent = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="shifts"
    )
    template = models.ForeignKey(ShiftTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=ShiftKind.choices, default=ShiftKind.DAY)
    start = models.DateTimeField()
    end = models.DateTimeField()
    break_start = models.DateTimeField(null=True, blank=True)
    break_end = models.DateTimeField(null=True, blank=True)
    skill = models.ForeignKey("accounts.Skill", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=16, choices=ShiftSource.choices, default=ShiftSource.SOLVER)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_end_after_start")]
        indexes = [
            models.Index(fields=["workspace", "start", "end"], name="shift_ws_time_idx"),
            models.Index(fields=["agent", "start"], name="shift_agent_start_idx"),
        ]
        ordering = ["start", "pk"]

    @property
    def is_open(self) -> bool:
        return self.agent_id is None


class LeaveType(models.TextChoices):
    ANNUAL = "annual", _("Annual leave")
    SICK = "sick", _("Sick leave")
    PERSONAL = "personal", _("Personal leave")
    OTHER = "other", _("Other absence")


class Leave(WorkspaceScoped):
    """A period an agent is away (approved): never rostered nor routed to then. (Moved here from routing.)"""

    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="leaves")
    start = models.DateTimeField()
    end = models.DateTimeField()
    leave_type = models.CharField(max_length=16, choices=LeaveType.choices, default=LeaveType.OTHER)
    half_day = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "end"], name="leave_ws_end_idx")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="leave_end_after_start")]
        ordering = ["start", "pk"]


class RequestKind(models.TextChoices):
    SWAP = "swap", _("Shift swap")
    PICKUP = "pickup", _("Open shift pick-up")
    LEAVE = "leave", _("Leave")
    OVERTIME = "overtime", _("Overtime")


class RequestStatus(models.TextChoices):
    AWAITING_PEER = "awaiting_peer", _("Waiting for the colleague")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DECLINED = "declined", _("Declined by the colleague")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_REQUEST_STATUSES = (RequestStatus.AWAITING_PEER, RequestStatus.PENDING)


class ShiftRequest(WorkspaceScoped):
    """An agent's request: swap a shift with a named colleague (who accepts first), pick up an open shift, take
    leave (whole or half days), or work overtime. `violations` are the rules it would break, shown before it is
    sent; `history` lists who did what when ([{"at", "actor_id", "action", "note"}])."""

    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requester = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="shift_requests")
    peer = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="peer_requests"
    )
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    peer_shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    leave_type = models.CharField(max_length=16, choices=LeaveType.choices, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    half_day = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    violations = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    history = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "status"], name="shiftrequest_ws_status_idx")]
        ordering = ["-created_at", "-pk"]


class PresenceSpan(WorkspaceScoped):
    """An agent's presence from `start` until `end` (open while current): adherence compares it to the roster."""

    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agent", "start"], name="presencespan_agent_idx")]
        ordering = ["start", "pk"]


from pivotdesk.workforce.time_models import TimeEntry, TimeSource  # noqa: E402, F401  (time tracking, issue 18)
