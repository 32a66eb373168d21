"""Business calendars as admins edit them: the form, its save and delete, and the next-business-days preview."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.common.calendars.hours import format_clock
from pivotdesk.common.errors import NotFound
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.sla.forms.text import (
    WEEKDAYS,
    hours_text,
    parse_dates_text,
    parse_hours_text,
    parse_working_dates_text,
    working_dates_text,
)
from pivotdesk.sla.models import BusinessCalendar
from pivotdesk.sla.services import configuration


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
    *, workspace: Workspace, actor: Actor, form: CalendarForm, calendar: BusinessCalendar | None = None
) -> BusinessCalendar:
    """Create or update a calendar from a valid form through the SLA configuration services (their permission
    check and validation); one default per workspace (setting one unsets the other)."""
    if calendar is None:
        return configuration.calendar_create(workspace=workspace, actor=actor, **form.values())
    return configuration.calendar_update(calendar=calendar, actor=actor, changes=form.values())


def calendar_delete(*, calendar: BusinessCalendar, actor: Actor) -> None:
    """Delete a calendar (the service's check); policies that used it fall back to the team's or the default."""
    configuration.calendar_delete(calendar=calendar, actor=actor)


def access_calendar(*, workspace: Workspace, calendar_id: int) -> BusinessCalendar:
    row = BusinessCalendar.objects.filter(workspace=workspace, pk=calendar_id).first()
    if row is None:
        raise NotFound(_("Business calendar not found."), code=SlaErrorCode.CALENDAR_NOT_FOUND)
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
