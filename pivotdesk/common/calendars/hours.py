"""Parsing and validating the stored shapes of business hours ("09:00"–"12:00" ranges per weekday, dated overrides).

Stored JSON (what admins and the API write) → the minute ranges the business calendar works with. Pure Python.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

MinuteRange = tuple[int, int]
DAY_MINUTES = 24 * 60


class HoursError(ValueError):
    """Stored hours that do not validate; `errors` maps a field path to a readable reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_clock(value: Any) -> int:
    """ "09:30" → 570 minutes after midnight; "24:00" is the end of the day."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError(f"'{value}' is not a time of day like 09:30")
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"'{value}' is not a time of day like 09:30")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > DAY_MINUTES:
        raise ValueError(f"'{value}' is not a time of day between 00:00 and 24:00")
    return total


def format_clock(minutes: int) -> str:
    """570 → "09:30"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_ranges(value: Any, where: str) -> tuple[MinuteRange, ...]:
    """[["09:00", "12:00"], ["13:00", "18:00"]] → ((540, 720), (780, 1080)): sorted, non-empty, not overlapping."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise HoursError({where: 'a list of [start, end] pairs like ["09:00", "18:00"]'})
    ranges: list[MinuteRange] = []
    for i, pair in enumerate(value):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise HoursError({f"{where}[{i}]": 'a [start, end] pair like ["09:00", "18:00"]'})
        try:
            start, end = parse_clock(pair[0]), parse_clock(pair[1])
        except ValueError as exc:
            raise HoursError({f"{where}[{i}]": str(exc)}) from exc
        if end <= start:
            raise HoursError({f"{where}[{i}]": f"ends ({pair[1]}) before it starts ({pair[0]})"})
        ranges.append((start, end))
    ranges.sort()
    for (_, prev_end), (start, _) in itertools.pairwise(ranges):
        if start < prev_end:
            raise HoursError({where: "ranges overlap"})
    return tuple(ranges)


def parse_weekly(value: Any) -> dict[int, tuple[MinuteRange, ...]]:
    """{"0": [["09:00","18:00"]], …} (0 = Monday … 6 = Sunday; a missing day is closed) → minute ranges."""
    if not isinstance(value, Mapping):
        raise HoursError({"weekly_hours": "an object of weekday (0 = Monday … 6 = Sunday) → ranges"})
    weekly: dict[int, tuple[MinuteRange, ...]] = {}
    for key, ranges in value.items():
        if str(key) not in {str(d) for d in range(7)}:
            raise HoursError({f"weekly_hours.{key}": "weekday must be 0 (Monday) … 6 (Sunday)"})
        weekly[int(key)] = parse_ranges(ranges, f"weekly_hours.{key}")
    return weekly


def parse_date(value: Any, where: str) -> dt.date:
    """ "2026-10-10" → date."""
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise HoursError({where: f"'{value}' is not a date like 2026-10-10"}) from exc


def parse_closed_dates(value: Any) -> frozenset[dt.date]:
    """["2026-10-10", …] → dates on which the business is closed all day."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise HoursError({"closed_dates": 'a list of dates like "2026-10-10"'})
    return frozenset(parse_date(v, f"closed_dates[{i}]") for i, v in enumerate(value))


def parse_working_dates(
    value: Any, weekly: Mapping[int, tuple[MinuteRange, ...]]
) -> dict[dt.date, tuple[MinuteRange, ...]]:
    """{"2026-10-11": [["09:00","18:00"]]} → dated working hours. An empty list means "a normal working day": the
    hours of the first weekday that has any (a Saturday made a workday keeps Monday's hours)."""
    if not isinstance(value, Mapping):
        raise HoursError({"working_dates": "an object of date → ranges"})
    standard = next((weekly[d] for d in sorted(weekly) if weekly[d]), ((9 * 60, 18 * 60),))
    out: dict[dt.date, tuple[MinuteRange, ...]] = {}
    for key, ranges in value.items():
        day = parse_date(key, f"working_dates.{key}")
        parsed = parse_ranges(ranges, f"working_dates.{key}")
        out[day] = parsed or standard
    return out
