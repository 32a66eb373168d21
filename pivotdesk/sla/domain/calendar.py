"""Business calendars and business-time arithmetic (pure Python, no Django).

A `BusinessCalendar` says when a team works, in local wall-clock time of an IANA time zone: weekly opening ranges,
closed dates (public holidays) and extra working days (make-up days, 调休, or special days with their own hours).
Business time is *elapsed real time* during which the local wall clock is inside an opening range; see docs/sla.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class BusinessCalendar:
    """When business time runs. Ranges are [start, end) minutes after local midnight, sorted, non-overlapping."""

    time_zone: str
    weekly: Mapping[int, Ranges]
    closed: frozenset[dt.date] = frozenset()
    extra_workdays: Mapping[dt.date, Ranges] = field(default_factory=dict)

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """24×7 ("calendar hours") in `time_zone`."""
        return cls(time_zone=time_zone, weekly=dict.fromkeys(range(7), ((0, 1440),)))


def with_country_holidays(
    calendar: BusinessCalendar, country: str, years: Iterable[int], subdivision: str | None = None
) -> BusinessCalendar:
    """`calendar` plus the public holidays of `country` (closed) and its weekend make-up working days."""
    raise NotImplementedError


def is_open(calendar: BusinessCalendar, at: dt.datetime) -> bool:
    """Whether `at` (aware) is inside business time."""
    raise NotImplementedError


def add_business_time(calendar: BusinessCalendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant when `amount` of business time has passed since `start` (aware, in calendar.time_zone)."""
    raise NotImplementedError


def business_time_between(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Business time in [start, end); zero when end <= start."""
    raise NotImplementedError


def next_open(calendar: BusinessCalendar, at: dt.datetime) -> dt.datetime | None:
    """`at` if open then, else the next opening; None when nothing opens within two years."""
    raise NotImplementedError
