"""Settings of service levels as admins type them: business calendars and SLA policies (conditions, a targets grid,
escalation levels). Parsing of human input ("09:00-12:00, 13:00-18:00", "2h", "75%, 15m"), validation with readable
messages, and the transactional writes behind the settings screens.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.customers.models import CustomerOrganization, Tier
from pivotdesk.sla.domain.hours import HoursError, format_clock, parse_ranges
from pivotdesk.sla.models import BusinessCalendar, EscalationLevel, Metric, SLAPolicy, SLATarget
from pivotdesk.sla.services.configuration import recheck_open_tickets
from pivotdesk.sla.services.escalation import parse_actions
from pivotdesk.tickets.models import Category, Priority, Status, TicketType

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
PAUSABLE = [(v, label) for v, label in Status.choices if v not in (Status.SOLVED, Status.CLOSED)]
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~到至]\s*(\d{1,2}):(\d{2})\s*$")


# --- parsing human input -----------------------------------------------------------------------------------------


def parse_hours_text(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-18:00" → [["09:00","12:00"], ["13:00","18:00"]]; empty → closed. Raises ValidationError."""
    pairs: list[list[str]] = []
    for part in re.split(r"[,，;；\n]", text or ""):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            raise ValidationError(
                _("“%(part)s” is not a range like 09:00-18:00.") % {"part": part.strip()}, code="range"
            )
        h1, m1, h2, m2 = m.groups()
        pairs.append([f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"])
    try:
        parse_ranges(pairs, "hours")
    except HoursError as exc:
        reason = next(iter(exc.errors.values()))
        if "overlap" in reason:
            raise ValidationError(_("The ranges overlap."), code="overlap") from exc
        if "before it starts" in reason:
            raise ValidationError(_("A range ends before it starts."), code="order") from exc
        raise ValidationError(_("Times are between 00:00 and 24:00."), code="clock") from exc
    return sorted(pairs)


def hours_text(ranges: list[list[str]] | None) -> str:
    """[["09:00","12:00"], …] → "09:00-12:00, …"."""
    return ", ".join(f"{a}-{b}" for a, b in ranges or [])


def parse_dates_text(text: str) -> list[str]:
    """One date per line (or separated by commas) → sorted ISO dates."""
    out: set[str] = set()
    for part in re.split(r"[\s,，;；]+", text or ""):
        if not part:
            continue
        try:
            out.add(dt.date.fromisoformat(part).isoformat())
        except ValueError as exc:
            raise ValidationError(_("“%(part)s” is not a date like 2026-10-10.") % {"part": part}) from exc
    return sorted(out)


def parse_working_dates_text(text: str) -> dict[str, list[list[str]]]:
    """Lines "2026-02-14" (normal hours) or "2026-02-14 09:00-12:00" → {date: ranges}."""
    out: dict[str, list[list[str]]] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        day, _sep, rest = line.partition(" ")
        try:
            key = dt.date.fromisoformat(day).isoformat()
        except ValueError as exc:
            raise ValidationError(_("“%(part)s” is not a date like 2026-10-10.") % {"part": day}) from exc
        out[key] = parse_hours_text(rest)
    return dict(sorted(out.items()))


def working_dates_text(value: dict[str, list[list[str]]] | None) -> str:
    return "\n".join(f"{day} {hours_text(r)}".strip() for day, r in sorted((value or {}).items()))


_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|分钟?|h|hr|hrs|hours?|小时|d|days?|天)?\s*$", re.I)


def parse_minutes(text: str) -> int | None:
    """ "30", "30m", "2h", "1.5 h", "2 小时", "1d" (24 h) → minutes; empty → None (no target)."""
    if not (text or "").strip():
        return None
    m = _AMOUNT.match(text)
    if not m:
        raise ValidationError(_("“%(v)s” is not a duration like 30m, 2h or 1d.") % {"v": text.strip()})
    number, unit = float(m.group(1)), (m.group(2) or "m").lower()
    factor = 1440 if unit[0] in "d天" else 60 if unit[0] in "h小" else 1
    minutes = round(number * factor)
    if minutes <= 0:
        raise ValidationError(_("A target must be at least one minute."))
    if minutes > 366 * 1440:
        raise ValidationError(_("A target must be at most a year."))
    return minutes


def minutes_text(minutes: int | None) -> str:
    """90 → "90m"; 120 → "2h"; 2880 → "2d"."""
    if not minutes:
        return ""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def parse_warnings(text: str) -> tuple[list[int], list[int]]:
    """ "75%, 90%, 15m" → ([75, 90], [15]): percent of the target elapsed, and minutes before the deadline."""
    percents: set[int] = set()
    before: set[int] = set()
    for part in re.split(r"[,，;；\s]+", text or ""):
        if not part:
            continue
        if part.endswith("%"):
            try:
                value = int(part[:-1])
            except ValueError as exc:
                raise ValidationError(_("“%(v)s” is not a percentage.") % {"v": part}) from exc
            if not 1 <= value <= 99:
                raise ValidationError(_("Warning percentages are between 1% and 99%."))
            percents.add(value)
        else:
            minutes = parse_minutes(part)
            if minutes is not None:
                before.add(minutes)
    return sorted(percents), sorted(before)


def warnings_text(percents: list[int], before: list[int]) -> str:
    return ", ".join([f"{p}%" for p in percents or []] + [minutes_text(m) for m in before or []])


# --- business calendars ------------------------------------------------------------------------------------------


class CalendarForm(forms.Form):
    """A business calendar as an admin edits it."""

    name = forms.CharField(max_length=120, label=gettext_lazy("Name"))
    time_zone = forms.CharField(max_length=64, initial="Asia/Shanghai", label=gettext_lazy("Time zone"))
    country_holidays = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Public holidays"))
    country = forms.CharField(max_length=8, required=False, initial="CN", label=gettext_lazy("Country"))
    subdivision = forms.CharField(max_length=16, required=False, label=gettext_lazy("Province / state"))
    closed_dates = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    working_dates = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_default = forms.BooleanField(required=False, label=gettext_lazy("Workspace default"))

    def __init__(self, *args: Any, workspace: Workspace, instance: BusinessCalendar | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = calendar_initial(instance)
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.instance = instance
        for day in range(7):
            self.fields[f"hours_{day}"] = forms.CharField(
                required=False, label=WEEKDAYS[day], initial="" if day >= 5 else "09:00-12:00, 13:00-18:00"
            )

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in range(7)]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        taken = BusinessCalendar.objects.filter(workspace=self.workspace, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("Another calendar already has this name."))
        return name

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(_("Unknown time zone “%(tz)s” (e.g. Asia/Shanghai).") % {"tz": value}) from exc
        return value

    def clean_closed_dates(self) -> list[str]:
        return parse_dates_text(self.cleaned_data["closed_dates"])

    def clean_working_dates(self) -> dict[str, list[list[str]]]:
        return parse_working_dates_text(self.cleaned_data["working_dates"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day in range(7):
            try:
                data[f"hours_{day}"] = parse_hours_text(self.data.get(f"hours_{day}", ""))
            except ValidationError as exc:
                self.add_error(f"hours_{day}", exc)
        if data.get("country_holidays"):
            import holidays

            country = (data.get("country") or "").strip().upper()
            supported = holidays.list_supported_countries()
            if country not in supported:
                self.add_error("country", _("No public holidays are known for “%(c)s”.") % {"c": country})
            else:
                subdivision = (data.get("subdivision") or "").strip()
                if subdivision and subdivision not in supported[country]:
                    self.add_error("subdivision", _("Unknown province or state “%(s)s”.") % {"s": subdivision})
            data["country"] = country
        else:
            data["country"] = ""
        return data

    def values(self) -> dict[str, Any]:
        """The model's fields from the cleaned form."""
        d = self.cleaned_data
        return {
            "name": d.get("name", ""),
            "time_zone": d["time_zone"],
            "weekly_hours": {str(day): d[f"hours_{day}"] for day in range(7) if d[f"hours_{day}"]},
            "country": d["country"],
            "subdivision": (d.get("subdivision") or "").strip() if d["country"] else "",
            "closed_dates": d["closed_dates"],
            "working_dates": d["working_dates"],
            "is_default": bool(d.get("is_default")),
        }


def calendar_initial(calendar: BusinessCalendar) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "country_holidays": bool(calendar.country),
        "country": calendar.country or "CN",
        "subdivision": calendar.subdivision,
        "closed_dates": "\n".join(calendar.closed_dates or []),
        "working_dates": working_dates_text(calendar.working_dates),
        "is_default": calendar.is_default,
    }
    for day in range(7):
        initial[f"hours_{day}"] = hours_text((calendar.weekly_hours or {}).get(str(day)))
    return initial


def calendar_save(
    *, workspace: Workspace, form: CalendarForm, calendar: BusinessCalendar | None = None
) -> BusinessCalendar:
    """Create or update a calendar from a valid form; one default per workspace (setting one unsets the other)."""
    values = form.values()
    with transaction.atomic():
        row = calendar or BusinessCalendar(workspace=workspace)
        for key, value in values.items():
            setattr(row, key, value)
        if row.is_default:
            BusinessCalendar.objects.filter(workspace=workspace, is_default=True).exclude(pk=row.pk).update(
                is_default=False
            )
        try:
            row.full_clean()
        except ValidationError as exc:
            raise ValidationFailed("; ".join(exc.messages)) from exc
        row.save()
        recheck_open_tickets(workspace.pk)
    return row


def calendar_delete(*, calendar: BusinessCalendar) -> None:
    """Delete a calendar; policies that used it fall back to the team's or the default calendar."""
    with transaction.atomic():
        workspace_id = calendar.workspace_id
        calendar.delete()
        recheck_open_tickets(workspace_id)


def access_calendar(*, workspace: Workspace, calendar_id: int) -> BusinessCalendar:
    row = BusinessCalendar.objects.filter(workspace=workspace, pk=calendar_id).first()
    if row is None:
        raise NotFound("Calendar not found.")
    return row


@dataclass(frozen=True)
class PreviewDay:
    """A day of the "next business days" preview."""

    day: dt.date
    hours: str
    note: str  # "" | "makeup" | "custom"


@dataclass(frozen=True)
class ClosedDay:
    day: dt.date
    name: str


def business_days_preview(
    calendar: BusinessCalendar, *, start: dt.date, count: int = 10
) -> tuple[list[PreviewDay], list[ClosedDay]]:
    """The next `count` business days from `start` (with their hours), and the weekdays skipped as holidays."""
    from pivotdesk.sla.calendars import domain_calendar

    years = (start.year, start.year + 1)
    domain = domain_calendar(calendar, years)
    names: dict[dt.date, str] = {}
    if calendar.country:
        import holidays

        try:
            names = dict(
                holidays.country_holidays(calendar.country, subdiv=calendar.subdivision or None, years=years).items()
            )
        except (NotImplementedError, KeyError):
            names = {}
    custom_work = set(calendar.working_dates or {})
    days: list[PreviewDay] = []
    closed: list[ClosedDay] = []
    day = start
    for _i in range(120):
        ranges = domain.ranges_on(day)
        if ranges:
            note = ""
            if day.isoformat() in custom_work:
                note = "custom"
            elif day in domain.extra_workdays and not domain.weekly.get(day.weekday()):
                note = "makeup"
            days.append(
                PreviewDay(
                    day=day, hours=", ".join(f"{format_clock(a)}-{format_clock(b)}" for a, b in ranges), note=note
                )
            )
            if len(days) >= count:
                break
        elif domain.weekly.get(day.weekday()):
            closed.append(ClosedDay(day=day, name=str(names.get(day, "")) or _("closed")))
        day += dt.timedelta(days=1)
    return days, closed


# --- SLA policies ------------------------------------------------------------------------------------------------


def _tags(text: str) -> list[str]:
    return sorted({t.strip().lower() for t in re.split(r"[,，\s]+", text or "") if t.strip()})


class PolicyForm(forms.Form):
    """An SLA policy's name, calendar, paused statuses and conditions (targets and escalations are parsed apart)."""

    name = forms.CharField(max_length=120, label=gettext_lazy("Name"))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))
    calendar = forms.ModelChoiceField(queryset=BusinessCalendar.objects.none(), required=False)
    paused_statuses = forms.MultipleChoiceField(
        choices=PAUSABLE, required=False, initial=["pending", "on_hold"], widget=forms.CheckboxSelectMultiple
    )
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.MultipleChoiceField(choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple)
    ticket_types = forms.MultipleChoiceField(
        choices=TicketType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    organizations = forms.ModelMultipleChoiceField(queryset=CustomerOrganization.objects.none(), required=False)
    categories = forms.ModelMultipleChoiceField(queryset=Category.objects.none(), required=False)
    tags_any = forms.CharField(required=False, label=gettext_lazy("Has any of the tags"))
    tags_all = forms.CharField(required=False, label=gettext_lazy("Has all of the tags"))
    tags_none = forms.CharField(required=False, label=gettext_lazy("Has none of the tags"))

    def __init__(self, *args: Any, workspace: Workspace, instance: SLAPolicy | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = policy_initial(instance)
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.instance = instance
        calendar_field: Any = self.fields["calendar"]
        calendar_field.queryset = BusinessCalendar.objects.filter(workspace=workspace)
        calendar_field.empty_label = _("Team's or workspace default")
        orgs: Any = self.fields["organizations"]
        orgs.queryset = CustomerOrganization.objects.filter(workspace=workspace).order_by("name")
        cats: Any = self.fields["categories"]
        cats.queryset = Category.objects.filter(workspace=workspace).order_by("name")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        taken = SLAPolicy.objects.filter(workspace=self.workspace, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("Another policy already has this name."))
        return name

    def conditions(self) -> dict[str, list[Any]]:
        d = self.cleaned_data
        raw: dict[str, list[Any]] = {
            "priorities": list(d.get("priorities") or []),
            "tiers": list(d.get("tiers") or []),
            "channels": list(d.get("channels") or []),
            "ticket_types": list(d.get("ticket_types") or []),
            "organization_ids": [o.pk for o in d.get("organizations") or []],
            "category_ids": [c.pk for c in d.get("categories") or []],
            "tags_any": _tags(d.get("tags_any", "")),
            "tags_all": _tags(d.get("tags_all", "")),
            "tags_none": _tags(d.get("tags_none", "")),
        }
        return {k: sorted(v) for k, v in raw.items() if v}


def policy_initial(policy: SLAPolicy) -> dict[str, Any]:
    c = policy.conditions or {}
    return {
        "name": policy.name,
        "description": policy.description,
        "active": policy.active,
        "calendar": policy.calendar_id,
        "paused_statuses": policy.paused_statuses,
        "priorities": c.get("priorities", []),
        "tiers": c.get("tiers", []),
        "channels": c.get("channels", []),
        "ticket_types": c.get("ticket_types", []),
        "organizations": c.get("organization_ids", []),
        "categories": c.get("category_ids", []),
        "tags_any": ", ".join(c.get("tags_any", [])),
        "tags_all": ", ".join(c.get("tags_all", [])),
        "tags_none": ", ".join(c.get("tags_none", [])),
    }


@dataclass
class TargetCell:
    """One cell of the targets grid (priority × metric) as typed, with its parsed value or error."""

    priority: str
    metric: str
    amount: str = ""
    business: bool = True
    warn: str = "75%, 90%"
    minutes: int | None = None
    percents: tuple[int, ...] = ()
    before: tuple[int, ...] = ()
    error: str = ""

    @property
    def key(self) -> str:
        return f"t-{self.priority}-{self.metric}"


def target_cells(policy: SLAPolicy | None) -> list[TargetCell]:
    """The grid as stored (empty cells for missing targets)."""
    stored = {(t.priority, t.metric): t for t in (policy.targets.all() if policy is not None and policy.pk else [])}
    cells = []
    for metric in Metric.values:
        for priority in Priority.values:
            t = stored.get((priority, metric))
            if t is None:
                cells.append(TargetCell(priority=priority, metric=metric))
            else:
                cells.append(
                    TargetCell(
                        priority=priority,
                        metric=metric,
                        amount=minutes_text(t.minutes),
                        business=t.business_hours,
                        warn=warnings_text(t.warn_at_percent, t.warn_minutes_before),
                        minutes=t.minutes,
                    )
                )
    return cells


def parse_target_cells(data: Any) -> list[TargetCell]:
    """The grid from POST data (`t-<priority>-<metric>-amount|-business|-warn`), each cell parsed or with an error."""
    cells = []
    for metric in Metric.values:
        for priority in Priority.values:
            key = f"t-{priority}-{metric}"
            cell = TargetCell(
                priority=priority,
                metric=metric,
                amount=data.get(f"{key}-amount", "").strip(),
                business=data.get(f"{key}-business") == "on",
                warn=data.get(f"{key}-warn", "").strip(),
            )
            try:
                cell.minutes = parse_minutes(cell.amount)
                percents, before = parse_warnings(cell.warn)
                cell.percents, cell.before = tuple(percents), tuple(before)
                if cell.minutes is not None and any(b >= cell.minutes for b in before):
                    raise ValidationError(_("A warning before the deadline must be shorter than the target."))
            except ValidationError as exc:
                cell.error = " ".join(exc.messages)
            cells.append(cell)
    return cells


@dataclass
class LevelRow:
    """One escalation level as typed in the form."""

    index: int
    level: str = "1"
    metric: str = ""
    after: str = "0"
    notify: tuple[str, ...] = ()
    notify_agents: tuple[str, ...] = ()
    reassign_agent: str = ""
    reassign_team: str = ""
    raise_priority: str = ""
    follower: str = ""
    tag: str = ""
    actions: tuple[dict[str, Any], ...] = ()
    level_number: int = 0
    minutes: int = 0
    error: str = ""

    @property
    def notify_agent_ids(self) -> set[int]:
        return {int(v) for v in self.notify_agents if str(v).isdigit()}


def level_rows(policy: SLAPolicy | None) -> list[LevelRow]:
    """Stored escalation levels as form rows."""
    rows = []
    levels = list(policy.escalations.all()) if policy is not None and policy.pk else []
    for i, level in enumerate(levels):
        row = LevelRow(
            index=i, level=str(level.level), metric=level.metric, after=minutes_text(level.minutes_after_breach) or "0"
        )
        notify: list[str] = []
        agents: list[str] = []
        for action in level.actions or []:
            kind = action.get("type")
            if kind == "notify":
                notify.append(action["to"])
                agents += [str(a) for a in action.get("agents", [])]
            elif kind == "reassign":
                row.reassign_agent = str(action.get("agent") or "")
                row.reassign_team = str(action.get("team") or "")
            elif kind == "raise_priority":
                row.raise_priority = action.get("to") or "step"
            elif kind == "add_follower":
                row.follower = str(action.get("agent") or "")
            elif kind == "add_tag":
                row.tag = action.get("tag", "")
        row.notify, row.notify_agents = tuple(notify), tuple(agents)
        rows.append(row)
    return rows


def parse_level_rows(data: Any, *, workspace: Workspace) -> list[LevelRow]:
    """Escalation levels from POST data (`e-<i>-…`); a row marked for removal, or left empty, is dropped."""
    try:
        count = min(int(data.get("e-count", "0")), 20)
    except ValueError:
        count = 0
    rows: list[LevelRow] = []
    for i in range(count):
        p = f"e-{i}-"
        if data.get(f"{p}delete") == "on":
            continue
        row = LevelRow(
            index=i,
            level=data.get(f"{p}level", "").strip(),
            metric=data.get(f"{p}metric", "").strip(),
            after=data.get(f"{p}after", "").strip() or "0",
            notify=tuple(data.getlist(f"{p}notify")),
            notify_agents=tuple(data.getlist(f"{p}notify_agents")),
            reassign_agent=data.get(f"{p}reassign_agent", "").strip(),
            reassign_team=data.get(f"{p}reassign_team", "").strip(),
            raise_priority=data.get(f"{p}raise_priority", "").strip(),
            follower=data.get(f"{p}follower", "").strip(),
            tag=data.get(f"{p}tag", "").strip(),
        )
        actions: list[dict[str, Any]] = []
        for to in row.notify:
            action: dict[str, Any] = {"type": "notify", "to": to}
            if to == "agents":
                action["agents"] = list(row.notify_agents)
            actions.append(action)
        if row.notify_agents and "agents" not in row.notify:
            actions.append({"type": "notify", "to": "agents", "agents": list(row.notify_agents)})
        if row.reassign_agent:
            actions.append({"type": "reassign", "agent": row.reassign_agent})
        elif row.reassign_team:
            actions.append({"type": "reassign", "team": row.reassign_team})
        if row.raise_priority:
            actions.append({"type": "raise_priority", "to": "" if row.raise_priority == "step" else row.raise_priority})
        if row.follower:
            actions.append({"type": "add_follower", "agent": row.follower})
        if row.tag:
            actions.append({"type": "add_tag", "tag": row.tag})
        if not actions and row.after in ("", "0") and not row.metric:
            continue  # the blank "add a level" row (its level number is prefilled)
        try:
            row.level_number = int(row.level)
            if not 1 <= row.level_number <= 9:
                raise ValueError
        except ValueError:
            row.error = _("The level is a number from 1 to 9.")
        if not row.error and row.metric and row.metric not in Metric.values:
            row.error = _("Unknown target.")
        if not row.error:
            try:
                row.minutes = parse_minutes(row.after) or 0 if row.after not in ("0", "") else 0
            except ValidationError as exc:
                row.error = " ".join(exc.messages)
        if not row.error and not actions:
            row.error = _("Choose at least one action.")
        if not row.error:
            try:
                row.actions = tuple(parse_actions(actions, workspace_id=workspace.pk))
            except ValidationFailed as exc:
                row.error = exc.message
        rows.append(row)
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (row.level_number, row.metric)
        if not row.error and key in seen:
            row.error = _("Level %(n)d is defined twice for the same target.") % {"n": row.level_number}
        seen.add(key)
    return rows


def policy_save(
    *,
    workspace: Workspace,
    form: PolicyForm,
    cells: list[TargetCell],
    levels: list[LevelRow],
    policy: SLAPolicy | None = None,
) -> SLAPolicy:
    """Create or update a policy with its whole targets grid and escalation ladder in one transaction. Callers pass
    a valid form and cells/levels without errors (else ValidationFailed)."""
    if any(c.error for c in cells) or any(r.error for r in levels):
        raise ValidationFailed(_("Fix the marked fields."))
    d = form.cleaned_data
    with transaction.atomic():
        row = policy or SLAPolicy(workspace=workspace)
        if row.pk is None:
            top = SLAPolicy.objects.filter(workspace=workspace).aggregate(m=Max("position"))["m"]
            row.position = 0 if top is None else top + 1
        row.name = d["name"]
        row.description = d.get("description", "")
        row.active = bool(d.get("active"))
        row.calendar = d.get("calendar")
        row.paused_statuses = sorted(d.get("paused_statuses") or [])
        row.conditions = form.conditions()
        try:
            row.full_clean()
        except ValidationError as exc:
            raise ValidationFailed("; ".join(exc.messages)) from exc
        row.save()
        wanted = {(c.priority, c.metric): c for c in cells if c.minutes is not None}
        SLATarget.objects.filter(policy=row).exclude(
            pk__in=[t.pk for t in SLATarget.objects.filter(policy=row) if (t.priority, t.metric) in wanted]
        ).delete()
        for (priority, metric), c in wanted.items():
            SLATarget.objects.update_or_create(
                policy=row,
                priority=priority,
                metric=metric,
                defaults={
                    "minutes": c.minutes or 0,
                    "business_hours": c.business,
                    "warn_at_percent": list(c.percents),
                    "warn_minutes_before": list(c.before),
                },
            )
        EscalationLevel.objects.filter(policy=row).delete()
        EscalationLevel.objects.bulk_create(
            EscalationLevel(
                policy=row,
                level=r.level_number,
                metric=r.metric,
                minutes_after_breach=r.minutes,
                actions=list(r.actions),
            )
            for r in sorted(levels, key=lambda r: (r.level_number, r.metric))
        )
        recheck_open_tickets(workspace.pk)
    return row


def policy_move(*, policy: SLAPolicy, direction: str) -> None:
    """Move a policy one place up or down in the workspace's order (positions renumbered 0…n-1)."""
    if direction not in ("up", "down"):
        raise ValidationFailed(_("Move a policy up or down."))
    with transaction.atomic():
        rows = list(
            SLAPolicy.objects.select_for_update().filter(workspace_id=policy.workspace_id).order_by("position", "pk")
        )
        i = next(i for i, r in enumerate(rows) if r.pk == policy.pk)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(rows):
            rows[i], rows[j] = rows[j], rows[i]
        for position, r in enumerate(rows):
            if r.position != position:
                SLAPolicy.objects.filter(pk=r.pk).update(position=position)
        recheck_open_tickets(policy.workspace_id)


def policy_delete(*, policy: SLAPolicy) -> None:
    """Delete a policy with its targets and levels; tickets keep their finished outcomes for reports."""
    with transaction.atomic():
        workspace_id = policy.workspace_id
        policy.delete()
        recheck_open_tickets(workspace_id)


def access_policy(*, workspace: Workspace, policy_id: int) -> SLAPolicy:
    row = SLAPolicy.objects.filter(workspace=workspace, pk=policy_id).first()
    if row is None:
        raise NotFound("Policy not found.")
    return row


def escalation_choices(workspace: Workspace) -> dict[str, Any]:
    """Agents and teams an escalation may name."""
    agents = AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user")
    return {
        "agents": sorted(agents, key=lambda a: a.name),
        "teams": list(Team.objects.filter(workspace=workspace).order_by("name")),
    }
