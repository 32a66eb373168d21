"""Building (and caching) the pure-Python business calendar from a stored BusinessCalendar row."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pivotdesk.common.calendars.hours import parse_closed_dates, parse_weekly, parse_working_dates

if TYPE_CHECKING:
    from pivotdesk.common.calendars.calendar import BusinessCalendar as DomainCalendar
    from pivotdesk.sla.models import BusinessCalendar

_CACHE: OrderedDict[tuple[Any, ...], DomainCalendar] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 256


def domain_calendar(calendar: BusinessCalendar, years: tuple[int, ...] | None = None) -> DomainCalendar:
    """The domain calendar for a row and a span of years, cached (per process) by the row's content: an edit to
    the row changes the key, so a stale calendar is never used."""
    from pivotdesk.common.calendars.calendar import BusinessCalendar as Domain
    from pivotdesk.common.calendars.calendar import with_country_holidays
    from pivotdesk.common.time import now

    if years is None:
        this_year = now().year
        years = (this_year - 1, this_year, this_year + 1)
    key = (*calendar.cache_key(), years)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    weekly = parse_weekly(calendar.weekly_hours)
    built = Domain(
        time_zone=calendar.time_zone,
        weekly={day: weekly.get(day, ()) for day in range(7)},
        closed=parse_closed_dates(calendar.closed_dates),
        extra_workdays=parse_working_dates(calendar.working_dates, weekly),
    )
    if calendar.country:
        built = with_country_holidays(built, calendar.country, years, subdivision=calendar.subdivision or None)
        # Custom dates win over the country's: a custom working date over a holiday, a custom closed date over a
        # make-up working day.
        custom_closed = parse_closed_dates(calendar.closed_dates)
        custom_working = parse_working_dates(calendar.working_dates, weekly)
        built = Domain(
            time_zone=built.time_zone,
            weekly=built.weekly,
            closed=(built.closed | custom_closed) - frozenset(custom_working),
            extra_workdays={
                **{d: r for d, r in built.extra_workdays.items() if d not in custom_closed},
                **custom_working,
            },
        )
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def always_open(time_zone: str) -> DomainCalendar:
    """A calendar open around the clock (calendar-hours targets, workspaces without a calendar)."""
    from pivotdesk.common.calendars.calendar import BusinessCalendar as Domain

    return Domain.always_open(time_zone)
