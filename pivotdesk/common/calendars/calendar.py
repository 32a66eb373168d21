"""Business calendars and business-time arithmetic (pure Python, no Django).

A `BusinessCalendar` says when a team works, in local wall-clock time of an IANA time zone: weekly opening ranges,
closed dates (public holidays) and extra working days (make-up days, 调休, or special days with their own hours).

Business time is *elapsed real time* during which the local wall clock is inside an opening range. On a
daylight-saving day this means: wall-clock times skipped by spring-forward count nothing, and an opening range
that covers the repeated hour of fall-back counts that hour twice (it really passes twice). 24×7 "calendar hours"
are therefore plain elapsed time. See docs/sla.md.

How it is fast (≥100,000 `add_business_time` per second in pure Python): each calendar lazily builds, per UTC
year, the sorted list of its open intervals as integer microseconds since the Unix epoch, already converted from
local time (DST handled once, at build time), with running totals. A question is then one or two `bisect` calls
in C plus a little integer arithmetic; only a result that crosses a year boundary touches a second year.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Ranges = tuple[tuple[int, int], ...]

DAY_MINUTES = 1440
_US_PER_MIN = 60_000_000
_US_PER_DAY = 86_400_000_000
_ONE_US = dt.timedelta(microseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_FIRST_YEAR = 1900
_LAST_YEAR = 2400
# Microseconds since the epoch of 1 January 00:00 UTC of each year in [_FIRST_YEAR, _LAST_YEAR].
_YEAR_STARTS = [
    (dt.date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * _US_PER_DAY for year in range(_FIRST_YEAR, _LAST_YEAR + 1)
]
# A calendar with no business time in this many consecutive years has none at all ("within two years" + slack).
_EMPTY_YEARS_LIMIT = 3


class _Year:
    """The open intervals [starts[i], ends[i]) of one UTC year in epoch microseconds, with running totals."""

    __slots__ = ("cum_before", "cum_end", "ends", "starts", "total")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in intervals]
        self.ends = [e for _, e in intervals]
        self.cum_before: list[int] = []
        self.cum_end: list[int] = []
        total = 0
        for s, e in intervals:
            self.cum_before.append(total)
            total += e - s
            self.cum_end.append(total)
        self.total = total

    def position(self, t: int) -> int:
        """Business microseconds of this year before instant t (t inside the year)."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum_before[i] + (t if t < end else end) - self.starts[i]

    def instant(self, p: int) -> int:
        """The instant where the year's business position reaches p (0 < p <= total)."""
        i = bisect_left(self.cum_end, p)
        return self.starts[i] + p - self.cum_before[i]


def _check_ranges(ranges: Any, where: str) -> Ranges:
    try:
        out = tuple((int(start), int(end)) for start, end in ranges)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: ranges must be pairs of minutes, got {ranges!r}") from exc
    previous_end = 0
    for start, end in out:
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"{where}: range ({start}, {end}) is not within 0 ≤ start < end ≤ {DAY_MINUTES}")
        if start < previous_end:
            raise ValueError(f"{where}: ranges must be sorted and must not overlap: {out!r}")
        previous_end = end
    return out


@dataclass(frozen=True)
class BusinessCalendar:
    """When business time runs. Ranges are [start, end) minutes after local midnight, sorted, non-overlapping.

    `weekly` maps weekday (0=Monday … 6=Sunday) to its ranges; a missing weekday is closed. `closed` dates have
    no business time; `extra_workdays` give a date its own ranges and win over both `weekly` and `closed`.
    Invalid input raises ValueError. Instances are immutable and hashable; each keeps a private cache.
    """

    time_zone: str
    weekly: Mapping[int, Ranges]
    closed: frozenset[dt.date] = frozenset()
    extra_workdays: Mapping[dt.date, Ranges] = field(default_factory=dict)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _years: dict[int, _Year] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        weekly: dict[int, Ranges] = {}
        for weekday, ranges in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), got {weekday!r}")
            weekly[weekday] = _check_ranges(ranges, f"weekday {weekday}")
        extra: dict[dt.date, Ranges] = {}
        for day, ranges in self.extra_workdays.items():
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                raise ValueError(f"extra working day must be a date, got {day!r}")
            extra[day] = _check_ranges(ranges, f"extra working day {day}")
        closed = frozenset(self.closed)
        if any(not isinstance(day, dt.date) or isinstance(day, dt.datetime) for day in closed):
            raise ValueError("closed days must be dates")
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "extra_workdays", MappingProxyType(extra))
        object.__setattr__(self, "closed", closed)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_years", {})

    def __hash__(self) -> int:
        return hash(
            (
                self.time_zone,
                tuple(sorted(self.weekly.items())),
                self.closed,
                tuple(sorted(self.extra_workdays.items())),
            )
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle by value (MappingProxyType does not pickle, and the cache is rebuilt lazily anyway).
        return (
            BusinessCalendar,
            (self.time_zone, dict(self.weekly), self.closed, dict(self.extra_workdays)),
        )

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """24×7 ("calendar hours") in `time_zone`."""
        return cls(time_zone=time_zone, weekly=dict.fromkeys(range(7), ((0, DAY_MINUTES),)))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def ranges_on(self, day: dt.date) -> Ranges:
        """The opening ranges of a local date (extra working day > closed > weekly)."""
        extra = self.extra_workdays.get(day)
        if extra is not None:
            return extra
        if day in self.closed:
            return ()
        return self.weekly.get(day.weekday(), ())

    def weekday_ranges(self) -> Ranges:
        """The ranges of a normal working day: Monday's, or the first weekday that has any."""
        for day in range(7):
            if self.weekly.get(day):
                return self.weekly[day]
        return ()

    # -- the per-year cache -------------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        built = self._years.get(year)
        if built is None:
            built = self._years[year] = _build_year(self, year)
        return built


def _offset_us(zone: ZoneInfo, t: int) -> int:
    offset = (_EPOCH + dt.timedelta(microseconds=t)).astimezone(zone).utcoffset()
    assert offset is not None  # noqa: S101 - a ZoneInfo always has an offset
    return offset // _ONE_US


@functools.lru_cache(maxsize=256)
def _year_pieces(time_zone: str, year: int) -> tuple[tuple[int, int, int], ...]:
    """The UTC year split into pieces of constant offset, shared by every calendar of the zone."""
    lo = _YEAR_STARTS[year - _FIRST_YEAR]
    hi = _YEAR_STARTS[year + 1 - _FIRST_YEAR]
    return tuple(_pieces(ZoneInfo(time_zone), lo, hi))


def _pieces(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """[lo, hi) split into pieces of constant UTC offset: (start, end, offset), all in microseconds.

    Offsets are sampled every 12 hours and each change is located to the second by bisection (tz transitions fall
    on whole seconds, and no zone changes its offset twice within 12 hours).
    """
    step = 12 * 3_600_000_000
    second = 1_000_000
    pieces: list[tuple[int, int, int]] = []
    piece_start, offset = lo, _offset_us(zone, lo)
    t = lo
    while t < hi:
        nxt = min(t + step, hi)
        nxt_offset = _offset_us(zone, nxt)
        if nxt_offset != offset:
            # The change is in (t, nxt]: find the first second with the new offset.
            a, b = t // second, -(-nxt // second)
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_us(zone, mid * second) == offset:
                    a = mid
                else:
                    b = mid
            change = max(b * second, piece_start + 1)
            pieces.append((piece_start, change, offset))
            piece_start, offset = change, _offset_us(zone, change)
        t = nxt
    pieces.append((piece_start, hi, offset))
    return [p for p in pieces if p[0] < p[1]]


def _build_year(calendar: BusinessCalendar, year: int) -> _Year:
    if not _FIRST_YEAR <= year < _LAST_YEAR:
        raise ValueError(f"year {year} is outside the supported range {_FIRST_YEAR}–{_LAST_YEAR - 1}")
    intervals: list[tuple[int, int]] = []
    for piece_start, piece_end, offset in _year_pieces(calendar.time_zone, year):
        # Local wall times shown during this piece are [piece_start + offset, piece_end + offset).
        first_day = (piece_start + offset) // _US_PER_DAY
        last_day = (piece_end - 1 + offset) // _US_PER_DAY
        for day_index in range(first_day, last_day + 1):
            ranges = calendar.ranges_on(dt.date.fromordinal(_EPOCH_ORDINAL + day_index))
            midnight = day_index * _US_PER_DAY - offset  # the instant of local midnight, at this piece's offset
            for start, end in ranges:
                s = max(piece_start, midnight + start * _US_PER_MIN)
                e = min(piece_end, midnight + end * _US_PER_MIN)
                if s < e:
                    intervals.append((s, e))
    intervals.sort()
    merged: list[tuple[int, int]] = []
    for s, e in intervals:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return _Year(merged)


def _to_us(at: dt.datetime) -> int:
    try:
        return (at - _EPOCH) // _ONE_US
    except TypeError:  # naive (or a tzinfo without an offset)
        raise ValueError(f"datetime must be timezone-aware, got {at!r}") from None


def _year_of(t: int) -> int:
    index = bisect_right(_YEAR_STARTS, t) - 1
    if index < 0 or index >= len(_YEAR_STARTS) - 1:
        raise ValueError("datetime is outside the supported years")
    return _FIRST_YEAR + index


def _from_us(calendar: BusinessCalendar, t: int) -> dt.datetime:
    # fromtimestamp with whole seconds is exact (no float) and 3× faster than epoch + timedelta → astimezone;
    # replace() is paid only for the rare result with a fraction of a second.
    seconds, micro = divmod(t, 1_000_000)
    out = dt.datetime.fromtimestamp(seconds, calendar.zone)
    return out.replace(microsecond=micro) if micro else out


def with_country_holidays(
    calendar: BusinessCalendar, country: str, years: Iterable[int], subdivision: str | None = None
) -> BusinessCalendar:
    """`calendar` plus the public holidays of `country` (closed) and its weekend make-up working days.

    Make-up working days (China's 调休, `holidays.<Country>().weekend_workdays`) become extra working days with the
    calendar's normal weekday ranges; dates the calendar already lists as extra working days keep their ranges.
    Unknown country or subdivision → ValueError.
    """
    import holidays  # the only third-party import of this module, needed only here

    years = sorted(set(years))
    try:
        country_holidays = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise ValueError(f"no public holidays known for country {country!r}") from exc
    except Exception as exc:
        raise ValueError(f"no public holidays known for {country!r}/{subdivision!r}: {exc}") from exc
    closed = set(calendar.closed) | set(country_holidays.keys())
    extra = dict(calendar.extra_workdays)
    workday_ranges = calendar.weekday_ranges()
    year_set = set(years)
    for day in sorted(getattr(country_holidays, "weekend_workdays", ()) or ()):
        if day.year in year_set and day not in extra and workday_ranges:
            extra[day] = workday_ranges
    return BusinessCalendar(
        time_zone=calendar.time_zone, weekly=dict(calendar.weekly), closed=frozenset(closed), extra_workdays=extra
    )


def is_open(calendar: BusinessCalendar, at: dt.datetime) -> bool:
    """Whether `at` (aware) is inside business time (ranges are half-open: open at 09:00, closed at 18:00)."""
    t = _to_us(at)
    year = calendar._year(_year_of(t))
    i = bisect_right(year.starts, t) - 1
    return i >= 0 and t < year.ends[i]


def add_business_time(calendar: BusinessCalendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant when `amount` of business time has passed since `start`, aware in calendar.time_zone.

    Counting starts at `start` if open, else at the next opening. The result is the exact instant the amount is
    used up, so a target that runs out at closing time is due at closing time (Friday 18:00, not Monday 09:00).
    `amount == 0` returns `start` itself (as Zendesk does), even outside business time. A negative amount, or a
    calendar with no business time for two years, raises ValueError.
    """
    t = _to_us(start)
    remaining = amount // _ONE_US
    if remaining < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    if remaining == 0:
        return start.astimezone(calendar.zone)
    year_number = _year_of(t)
    year = calendar._years.get(year_number) or calendar._year(year_number)
    target = year.position(t) + remaining
    empty_years = 0
    while target > year.total:
        remaining = target - year.total
        if year.total == 0:
            empty_years += 1
            if empty_years >= _EMPTY_YEARS_LIMIT:
                raise ValueError("the calendar has no business time within two years")
        else:
            empty_years = 0
        year_number += 1
        year = calendar._year(year_number)
        target = remaining
    return _from_us(calendar, year.instant(target))


def business_time_between(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Business time in [start, end); zero when end <= start."""
    s, e = _to_us(start), _to_us(end)
    if e <= s:
        return dt.timedelta(0)
    ys, ye = _year_of(s), _year_of(e)
    first = calendar._year(ys)
    if ys == ye:
        return dt.timedelta(microseconds=first.position(e) - first.position(s))
    total = first.total - first.position(s)
    for year_number in range(ys + 1, ye):
        total += calendar._year(year_number).total
    total += calendar._year(ye).position(e)
    return dt.timedelta(microseconds=total)


def next_open(calendar: BusinessCalendar, at: dt.datetime) -> dt.datetime | None:
    """`at` (in calendar.time_zone) if open then, else the next opening; None when nothing opens within two years."""
    t = _to_us(at)
    year_number = _year_of(t)
    for offset in range(_EMPTY_YEARS_LIMIT):
        if year_number + offset >= _LAST_YEAR:
            return None
        year = calendar._year(year_number + offset)
        i = bisect_right(year.starts, t) - 1
        if i >= 0 and t < year.ends[i]:
            return _from_us(calendar, t)
        if i + 1 < len(year.starts):
            return _from_us(calendar, year.starts[i + 1])
    return None


__all__ = [
    "DAY_MINUTES",
    "BusinessCalendar",
    "Ranges",
    "add_business_time",
    "business_time_between",
    "is_open",
    "next_open",
    "with_country_holidays",
]
