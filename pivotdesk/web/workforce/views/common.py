"""What the workforce screens share: the supervisor gate, form values read into the services' types, local times."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import formats
from django.utils.translation import gettext as _

from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.web.base import Desk, int_or_none
from pivotdesk.workforce.models import RequestKind, ShiftKind
from pivotdesk.workforce.services.time import local_start, zone_of


def manage(desk: Desk) -> None:
    """Planning screens show only to those the planning services accept (supervisors and admins)."""
    require(desk.agent, Perm.WORKFORCE_MANAGE)


def manages(desk: Desk) -> bool:
    return can(desk.agent, Perm.WORKFORCE_MANAGE)


def tz_of(desk: Desk) -> zoneinfo.ZoneInfo:
    return zone_of(desk.workspace)


def done(request: HttpRequest, url: str) -> HttpResponse:
    """After a change: HTMX follows HX-Redirect, a plain form a 302."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def bad(message: str, field: str = "") -> ValidationFailed:
    return ValidationFailed(message, details={field: "invalid"} if field else {})


def parse_date(value: Any, field: str = "") -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise bad(_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value}, field) from exc


def parse_time(value: Any, field: str = "") -> dt.time:
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise bad(_("“%(value)s” is not a time of day (HH:MM).") % {"value": value}, field) from exc


def parse_local(value: Any, tz: zoneinfo.ZoneInfo, field: str = "") -> dt.datetime:
    """A `datetime-local` input (wall clock of the workspace) as an aware instant."""
    try:
        naive = dt.datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise bad(_("“%(value)s” is not a date and time.") % {"value": value}, field) from exc
    if naive.tzinfo is not None:
        return naive
    return local_start(naive.date(), tz, naive.hour * 60 + naive.minute)


def local_input(at: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    """The value of a `datetime-local` input for an instant."""
    return at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if at is not None else ""


def number(value: Any, *, optional: bool = False) -> str | None:
    """A numeric form field passed on as typed (the model's validation reads it); empty is None when optional."""
    text = str(value if value is not None else "").strip()
    return None if optional and not text else text


def ids(values: list[str]) -> list[int]:
    return [n for n in (int_or_none(v) for v in values) if n is not None]


def weekday_names() -> list[tuple[int, str]]:
    """Monday first, in the active language."""
    monday = dt.date(2024, 1, 1)
    return [(i, formats.date_format(monday + dt.timedelta(days=i), "l")) for i in range(7)]


def day_label(day: dt.date) -> str:
    return f"{formats.date_format(day, 'D')} {day.strftime('%m-%d')}"


def span_label(start: dt.datetime, end: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    a, b = start.astimezone(tz), end.astimezone(tz)
    tail = b.strftime("%H:%M") if b.date() == a.date() else f"{day_label(b.date())} {b.strftime('%H:%M')}"
    return f"{a.strftime('%H:%M')}–{tail}"


KIND_CLASSES = {k: f"wf-k-{k}" for k in ShiftKind.values}
REQUEST_KIND_LABELS = dict(RequestKind.choices)


def history_action(action: str) -> str:
    labels = {
        "created": _("asked"),
        "accepted": _("accepted the swap"),
        "declined": _("declined the swap"),
        "cancelled": _("withdrew it"),
        "approved": _("approved"),
        "rejected": _("rejected"),
    }
    return labels.get(action, action)
