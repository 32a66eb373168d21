"""On-call schedules: rotations in layers with restrictions, plus overrides, evaluated at an instant or as a timeline.

Semantics follow PagerDuty/Opsgenie:

- A layer rotates its participants in order, one turn each, from its rotation start; before the rotation start the
  layer has nobody. A later layer is on top and wins wherever it has someone; overrides win over every layer (the
  later override in the list wins where two overlap).
- Day and week turns hand off on the local wall clock (rotation start + k·turn as a naive local time), so a daily
  09:00 handoff stays at 09:00 across DST; the day with the change simply has a 23 h or 25 h turn. Custom-hour turns
  hand off every `turn` of elapsed time from the (resolved) rotation start, because "12 h on call" means twelve real
  hours; across DST their handoffs therefore drift by an hour on the wall clock.
- A local wall-clock time is resolved to an instant as "the first instant at which the local clock shows that time
  or later": a time skipped by spring-forward (02:30 in Berlin on 2026-03-29) resolves to the first valid instant
  after the gap (03:00 CEST); a time repeated by fall-back resolves to its first occurrence.
- Restrictions are windows on the local wall clock and a layer is active where any of them holds (union), exactly
  like PagerDuty's restrictions: a wall time skipped by DST is never inside a window, and a window inside the repeated
  hour of a fall-back applies to both passes. Working-day restrictions ask `is_working_day(local date)`, so a
  calendar with China's 调休 make-up Saturdays makes a "non-working days" layer skip those Saturdays. Without a
  predicate, Monday–Friday are working days.

Every instant returned is in UTC: subtracting two datetimes that share a ZoneInfo gives the wall-clock difference,
which is wrong across DST, so UTC is the safe form to hand out; convert with `.astimezone(zone)` for display.
The timeline is computed from boundaries (handoffs, restriction edges, DST transitions, override edges), each
elementary interval evaluated once with the same pointwise functions that `on_call` uses.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

type Participant = str | int
type WorkingDayPredicate = Callable[[date], bool]

_DAY = timedelta(days=1)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TRANSITION_SCAN_STEP = timedelta(hours=6)


def default_is_working_day(day: date) -> bool:
    """Monday to Friday; pass a real calendar to honour holidays and make-up working days."""
    return day.weekday() < 5


def zone_named(name: str | ZoneInfo) -> ZoneInfo:
    """The ZoneInfo for an IANA name, with a ValueError (not a KeyError) for an unknown one."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware_utc(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return at.astimezone(UTC)


def wall_clock(at: datetime, zone: ZoneInfo) -> datetime:
    """The naive local time that a clock in `zone` shows at the aware instant `at`."""
    return at.astimezone(zone).replace(tzinfo=None)


def _first_true(lo: datetime, hi: datetime, predicate: Callable[[datetime], bool]) -> datetime:
    """Smallest whole UTC second in [lo, hi] where a monotone predicate holds (it holds at hi, not at lo).

    Zone transitions fall on whole seconds, so searching the whole-second lattice finds them exactly.
    """
    low = math.floor(lo.timestamp())
    high = math.ceil(hi.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if predicate(datetime.fromtimestamp(middle, UTC)):
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


@lru_cache(maxsize=8192)
def resolve_local(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` shows `naive` or later (see the module docstring)."""
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if wall_clock(first, zone) == naive:
        return first  # exists; fold=0 is the first occurrence of a repeated time
    # Skipped by a gap: fold=1 applies the offset after the gap and lands before it, fold=0 lands after it.
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(before, first), max(before, first)
    return _first_true(lo, hi, lambda at: wall_clock(at, zone) >= naive)


def _offset_is(zone: ZoneInfo, offset: timedelta | None) -> Callable[[datetime], bool]:
    return lambda at: at.astimezone(zone).utcoffset() == offset


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end) where the zone's UTC offset changes (assumes changes are > 6 h apart)."""
    found: list[datetime] = []
    at = _aware_utc(start, "start")
    stop = _aware_utc(end, "end")
    offset = at.astimezone(zone).utcoffset()
    while at < stop:
        following = min(at + _TRANSITION_SCAN_STEP, stop)
        new_offset = following.astimezone(zone).utcoffset()
        if new_offset != offset and (change := _first_true(at, following, _offset_is(zone, new_offset))) < stop:
            found.append(change)
        at, offset = following, new_offset
    return found


@dataclass(frozen=True)
class Turn:
    """How long each participant's turn lasts; `wall_clock` turns are whole days and hand off on the local clock."""

    length: timedelta
    wall_clock: bool = True

    def __post_init__(self) -> None:
        if self.length <= timedelta(0):
            raise ValueError("a turn must be longer than zero")
        if self.wall_clock and self.length % _DAY:
            raise ValueError("a wall-clock turn is a whole number of days; use Turn.hours() for other lengths")

    @classmethod
    def daily(cls, days: int = 1) -> Turn:
        return cls(timedelta(days=days), wall_clock=True)

    @classmethod
    def weekly(cls, weeks: int = 1) -> Turn:
        return cls(timedelta(weeks=weeks), wall_clock=True)

    @classmethod
    def hours(cls, hours: float) -> Turn:
        return cls(timedelta(hours=hours), wall_clock=False)


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"expected a time like 19:00, got {text!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0:
        return time(0)
    return time(hour, minute)  # raises ValueError when out of range


def _split_range(text: str) -> tuple[str, str]:
    parts = re.split(r"\s*(?:->|→|–|—|-|~)\s*", text.strip())
    if len(parts) != 2:
        raise ValueError(f"expected 'start - end', got {text!r}")
    return parts[0], parts[1]


@dataclass(frozen=True)
class DailyWindow:
    """Every day from `start` to `end` local time; `end` before `start` wraps past midnight (19:00–08:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("restriction times are local wall-clock times: pass them without tzinfo")
        if self.start == self.end:
            raise ValueError(f"a daily window needs start != end (got {self.start:%H:%M} both)")

    @classmethod
    def parse(cls, text: str) -> DailyWindow:
        """'19:00-08:00' (also with –, → or ~)."""
        start, end = _split_range(text)
        return cls(_parse_clock(start), _parse_clock(end))

    def contains(self, wall: datetime, is_working_day: WorkingDayPredicate) -> bool:
        clock = wall.time()
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def edges(self, day: date) -> Iterator[datetime]:
        yield datetime.combine(day, self.start)
        yield datetime.combine(day, self.end)


def _week_position(weekday: int, clock: time) -> timedelta:
    return timedelta(
        days=weekday, hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


@dataclass(frozen=True)
class WeeklyWindow:
    """From a weekday and time to another each week (Sat 00:00 → Mon 00:00); days are 0 = Monday … 6 = Sunday."""

    start_day: int
    start: time
    end_day: int
    end: time

    def __post_init__(self) -> None:
        if not (0 <= self.start_day <= 6 and 0 <= self.end_day <= 6):
            raise ValueError("weekly window days are 0 (Monday) to 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("restriction times are local wall-clock times: pass them without tzinfo")
        if (self.start_day, self.start) == (self.end_day, self.end):
            raise ValueError("a weekly window needs start != end")

    @classmethod
    def parse(cls, text: str) -> WeeklyWindow:
        """'Sat 00:00 -> Mon 00:00' (English three-letter day names)."""
        start, end = _split_range(text)
        start_day, start_clock = cls._parse_point(start)
        end_day, end_clock = cls._parse_point(end)
        return cls(start_day, start_clock, end_day, end_clock)

    @staticmethod
    def _parse_point(text: str) -> tuple[int, time]:
        match = re.fullmatch(r"\s*([A-Za-z]{3})[A-Za-z]*\s+(\S+)\s*", text)
        if not match or match[1].lower() not in _WEEKDAYS:
            raise ValueError(f"expected a point like 'Sat 00:00', got {text!r}")
        return _WEEKDAYS.index(match[1].lower()), _parse_clock(match[2])

    def contains(self, wall: datetime, is_working_day: WorkingDayPredicate) -> bool:
        position = _week_position(wall.weekday(), wall.time())
        start = _week_position(self.start_day, self.start)
        end = _week_position(self.end_day, self.end)
        if start < end:
            return start <= position < end
        return position >= start or position < end

    def edges(self, day: date) -> Iterator[datetime]:
        if day.weekday() == self.start_day:
            yield datetime.combine(day, self.start)
        if day.weekday() == self.end_day:
            yield datetime.combine(day, self.end)


@dataclass(frozen=True)
class DayKind:
    """Whole local days that are working days (`working=True`) or not, by the calendar predicate."""

    working: bool

    def contains(self, wall: datetime, is_working_day: WorkingDayPredicate) -> bool:
        return is_working_day(wall.date()) == self.working

    def edges(self, day: date) -> Iterator[datetime]:
        yield datetime.combine(day, time(0))


WORKING_DAYS = DayKind(working=True)
NON_WORKING_DAYS = DayKind(working=False)

type Restriction = DailyWindow | WeeklyWindow | DayKind


@dataclass(frozen=True)
class Layer:
    """A rotation; `rotation_start` is a naive local wall-clock time in the schedule's zone."""

    participants: tuple[Participant, ...]
    rotation_start: datetime
    turn: Turn
    restrictions: tuple[Restriction, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "participants", tuple(self.participants))
        object.__setattr__(self, "restrictions", tuple(self.restrictions))
        if not self.participants:
            raise ValueError(f"layer {self.name!r} needs at least one participant")
        if self.rotation_start.tzinfo is not None:
            raise ValueError("rotation_start is a local wall-clock time: pass it naive (the zone is the schedule's)")


@dataclass(frozen=True)
class Override:
    """Someone covers [start, end) on top of every layer ("I cover Wang's Tuesday night")."""

    start: datetime
    end: datetime
    participant: Participant

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _aware_utc(self.start, "override start"))
        object.__setattr__(self, "end", _aware_utc(self.end, "override end"))
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Schedule:
    """Layers bottom to top (the last wins) and overrides, in the IANA zone `time_zone`."""

    time_zone: str
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "zone", zone_named(self.time_zone))


@dataclass(frozen=True)
class Segment:
    """[start, end) in UTC with one participant on call."""

    start: datetime
    end: datetime
    participant: Participant


@dataclass(frozen=True)
class Timeline:
    """Per-layer segments (bottom to top), the effective overrides, and the final result; gaps mean nobody."""

    start: datetime
    end: datetime
    layers: list[list[Segment]]
    overrides: list[Segment]
    final: list[Segment]


def handoff(layer: Layer, zone: ZoneInfo, index: int) -> datetime:
    """The instant (UTC) when turn `index` (0 = the rotation start) begins."""
    if layer.turn.wall_clock:
        return resolve_local(layer.rotation_start + index * layer.turn.length, zone)
    return resolve_local(layer.rotation_start, zone) + index * layer.turn.length


def _turn_index(layer: Layer, zone: ZoneInfo, at: datetime) -> int | None:
    first = handoff(layer, zone, 0)
    if at < first:
        return None
    if not layer.turn.wall_clock:
        return (at - first) // layer.turn.length
    # The wall clock gives the index up to the odd DST hour; the resolved handoffs settle it.
    index = max(0, (wall_clock(at, zone) - layer.rotation_start) // layer.turn.length)
    while index > 0 and handoff(layer, zone, index) > at:
        index -= 1
    while handoff(layer, zone, index + 1) <= at:
        index += 1
    return index


def _restrictions_hold(restrictions: Sequence[Restriction], wall: datetime, predicate: WorkingDayPredicate) -> bool:
    return not restrictions or any(r.contains(wall, predicate) for r in restrictions)


def _layer_value(layer: Layer, zone: ZoneInfo, at: datetime, predicate: WorkingDayPredicate) -> Participant | None:
    index = _turn_index(layer, zone, at)
    if index is None or not _restrictions_hold(layer.restrictions, wall_clock(at, zone), predicate):
        return None
    return layer.participants[index % len(layer.participants)]


def _override_value(overrides: Sequence[Override], at: datetime) -> Participant | None:
    for override in reversed(overrides):
        if override.covers(at):
            return override.participant
    return None


def layer_on_call(
    layer: Layer, zone: str | ZoneInfo, at: datetime, *, is_working_day: WorkingDayPredicate | None = None
) -> Participant | None:
    """Who this layer alone has on call at the aware instant `at` (None: nobody, e.g. outside its restrictions)."""
    return _layer_value(layer, zone_named(zone), _aware_utc(at, "at"), is_working_day or default_is_working_day)


def on_call(
    schedule: Schedule, at: datetime, *, is_working_day: WorkingDayPredicate | None = None
) -> Participant | None:
    """Who is on call at the aware instant `at`: the latest covering override, else the top layer with someone."""
    instant = _aware_utc(at, "at")
    chosen = _override_value(schedule.overrides, instant)
    if chosen is not None:
        return chosen
    predicate = is_working_day or default_is_working_day
    for layer in reversed(schedule.layers):
        chosen = _layer_value(layer, schedule.zone, instant, predicate)
        if chosen is not None:
            return chosen
    return None


def _segments(
    cuts: Iterable[datetime], end: datetime, value: Callable[[datetime], Participant | None]
) -> list[Segment]:
    """Evaluate each elementary interval at its start and merge neighbours with the same participant."""
    ordered = sorted(set(cuts))
    result: list[Segment] = []
    for position, cut in enumerate(ordered):
        until = ordered[position + 1] if position + 1 < len(ordered) else end
        participant = value(cut)
        if participant is None:
            continue
        if result and result[-1].end == cut and result[-1].participant == participant:
            result[-1] = Segment(result[-1].start, until, participant)
        else:
            result.append(Segment(cut, until, participant))
    return result


def _handoffs_between(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    current = _turn_index(layer, zone, start)
    index = 0 if current is None else current + 1
    while (at := handoff(layer, zone, index)) < end:
        if at > start:
            yield at
        index += 1


def _restriction_edges(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[datetime]:
    """Both readings (fold 0 and 1) of every edge on the local days around the range; extra cuts are harmless."""
    day = wall_clock(start, zone).date() - _DAY
    last = wall_clock(end, zone).date() + _DAY
    while day <= last:
        for restriction in restrictions:
            for naive in restriction.edges(day):
                for fold in (0, 1):
                    at = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                    if start < at < end:
                        yield at
        day += _DAY


def layer_timeline(
    layer: Layer,
    zone: str | ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    is_working_day: WorkingDayPredicate | None = None,
) -> list[Segment]:
    """The segments in [start, end) where this layer alone has someone on call."""
    tz = zone_named(zone)
    begin, finish = _range(start, end)
    predicate = is_working_day or default_is_working_day
    cuts = [begin, *_handoffs_between(layer, tz, begin, finish)]
    if layer.restrictions:
        cuts.extend(_restriction_edges(layer.restrictions, tz, begin, finish))
        cuts.extend(at for at in transitions(tz, begin, finish) if at > begin)
    return _segments(cuts, finish, lambda at: _layer_value(layer, tz, at, predicate))


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    begin, finish = _aware_utc(start, "start"), _aware_utc(end, "end")
    if finish <= begin:
        raise ValueError("a timeline must end after it starts")
    return begin, finish


class _Lookup:
    """Who a sorted, disjoint segment list has at an instant, by bisection."""

    def __init__(self, segments: list[Segment]) -> None:
        self._segments = segments
        self._starts = [segment.start for segment in segments]

    def at(self, instant: datetime) -> Participant | None:
        position = bisect.bisect_right(self._starts, instant) - 1
        if position >= 0 and self._segments[position].end > instant:
            return self._segments[position].participant
        return None


def timeline(
    schedule: Schedule, start: datetime, end: datetime, *, is_working_day: WorkingDayPredicate | None = None
) -> Timeline:
    """The on-call timeline over [start, end): each layer's segments, the overrides, and the final result."""
    begin, finish = _range(start, end)
    layers = [
        layer_timeline(layer, schedule.zone, begin, finish, is_working_day=is_working_day) for layer in schedule.layers
    ]
    override_cuts = [begin]
    for override in schedule.overrides:
        override_cuts.extend(at for at in (override.start, override.end) if begin < at < finish)
    overrides = _segments(override_cuts, finish, lambda at: _override_value(schedule.overrides, at))

    lookups = [_Lookup(segments) for segments in (*layers, overrides)]
    cuts = set(override_cuts)
    for segments in layers:
        cuts.update(segment.start for segment in segments)
        cuts.update(segment.end for segment in segments if segment.end < finish)

    def final_value(at: datetime) -> Participant | None:
        for lookup in reversed(lookups):  # overrides first, then the top layer down
            chosen = lookup.at(at)
            if chosen is not None:
                return chosen
        return None

    return Timeline(begin, finish, layers, overrides, _segments(cuts, finish, final_value))
