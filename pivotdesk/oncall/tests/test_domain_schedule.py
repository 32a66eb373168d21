"""On-call schedule: hand-written cases, and a minute-by-minute brute-force reference compared by hypothesis.

The reference shares no evaluation code with `schedule.py`: it walks real UTC minutes, reads the local wall clock,
and applies the definitions directly. A wall-clock handoff happens at the first minute whose wall clock reaches the
handoff time, which the reference tracks as the highest wall-clock reading seen so far (a fall-back repeats an
hour, so the clock can go down; a spring-forward skips one, so a skipped time is reached at the jump). Restriction
windows are tested with modular minute arithmetic rather than comparisons of start and end.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.oncall.domain.schedule import (
    NON_WORKING_DAYS,
    WORKING_DAYS,
    DailyWindow,
    DayKind,
    Layer,
    Override,
    Participant,
    Schedule,
    Segment,
    Turn,
    WeeklyWindow,
    handoff,
    layer_on_call,
    on_call,
    resolve_local,
    timeline,
)

MINUTE = timedelta(minutes=1)
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
DST_DAYS = (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1))
# Where each zone changes its clocks (Shanghai has no DST; it gets all four days, as ordinary days).
ZONE_DST_DAYS = {
    "Asia/Shanghai": DST_DAYS,
    "Europe/Berlin": (date(2026, 3, 29), date(2026, 10, 25)),
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
}
POOL: tuple[Participant, ...] = ("a", "b", "c", "d", 1, 2)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, *fields: int) -> datetime:
    """The wall-clock time `fields` (year, month, day[, hour, minute]) in `zone`; the first occurrence if repeated."""
    return utc(*fields).replace(tzinfo=ZoneInfo(zone))


# --- the brute-force reference ---------------------------------------------------------------------------------


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _minute_of_day(wall: datetime | time) -> int:
    return wall.hour * 60 + wall.minute


def _in_cycle(position: int, start: int, end: int, cycle: int) -> bool:
    """Position lies in the cyclic half-open window that runs forward from start to end."""
    return (position - start) % cycle < (end - start) % cycle


def _ref_restriction(restriction: object, wall: datetime, is_working: Callable[[date], bool]) -> bool:
    if isinstance(restriction, DailyWindow):
        return _in_cycle(_minute_of_day(wall), _minute_of_day(restriction.start), _minute_of_day(restriction.end), 1440)
    if isinstance(restriction, WeeklyWindow):
        week = 7 * 1440
        position = wall.weekday() * 1440 + _minute_of_day(wall)
        start = restriction.start_day * 1440 + _minute_of_day(restriction.start)
        end = restriction.end_day * 1440 + _minute_of_day(restriction.end)
        return _in_cycle(position, start, end, week)
    assert isinstance(restriction, DayKind)
    return is_working(wall.date()) is restriction.working


def _ref_first_reached(naive: datetime, zone: ZoneInfo) -> datetime:
    """First whole UTC minute whose local wall clock shows `naive` or later, by scanning."""
    at = naive.replace(tzinfo=UTC) - timedelta(hours=16)
    while _wall(at, zone) < naive:
        at += MINUTE
    return at


class Reference:
    """Who is on call, minute by minute, straight from the definitions."""

    def __init__(self, schedule: Schedule, is_working: Callable[[date], bool]) -> None:
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.time_zone)
        self.is_working = is_working
        self.first_handoff = {
            position: _ref_first_reached(layer.rotation_start, self.zone)
            for position, layer in enumerate(schedule.layers)
            if not layer.turn.wall_clock
        }

    def walk(self, start: datetime, minutes: int) -> list[tuple[object, list[object]]]:
        """For each minute from `start`: (final participant, per-layer participants)."""
        highest = max(_wall(start - MINUTE * back, self.zone) for back in range(0, 4 * 60))
        result: list[tuple[object, list[object]]] = []
        for step in range(minutes):
            at = start + step * MINUTE
            wall = _wall(at, self.zone)
            highest = max(highest, wall)
            per_layer = [
                self._layer(position, layer, at, wall, highest) for position, layer in enumerate(self.schedule.layers)
            ]
            result.append((self._final(at, per_layer), per_layer))
        return result

    def _layer(self, position: int, layer: Layer, at: datetime, wall: datetime, highest: datetime) -> object:
        if layer.turn.wall_clock:
            if highest < layer.rotation_start:
                return None
            turn = (highest - layer.rotation_start) // layer.turn.length
        else:
            first = self.first_handoff[position]
            if at < first:
                return None
            turn = (at - first) // layer.turn.length
        if layer.restrictions and not any(_ref_restriction(r, wall, self.is_working) for r in layer.restrictions):
            return None
        return layer.participants[turn % len(layer.participants)]

    def _final(self, at: datetime, per_layer: list[object]) -> object:
        covering = [o.participant for o in self.schedule.overrides if o.start <= at < o.end]
        if covering:
            return covering[-1]
        present = [p for p in per_layer if p is not None]
        return present[-1] if present else None


def _segments_by_minute(segments: list[Segment], start: datetime, minutes: int) -> list[object]:
    values: list[object] = []
    position = 0
    for step in range(minutes):
        at = start + step * MINUTE
        while position < len(segments) and segments[position].end <= at:
            position += 1
        inside = position < len(segments) and segments[position].start <= at
        values.append(segments[position].participant if inside else None)
    return values


def _assert_well_formed(segments: list[Segment], start: datetime, end: datetime) -> None:
    for segment in segments:
        assert start <= segment.start < segment.end <= end
        assert segment.start.utcoffset() == timedelta(0)
    for before, after in itertools.pairwise(segments):
        assert before.end <= after.start
        assert not (before.end == after.start and before.participant == after.participant), "not merged"


# --- strategies ------------------------------------------------------------------------------------------------


def _clock(half_hours: int) -> time:
    return time(half_hours // 2, 30 * (half_hours % 2))


# Half hours that fall in or next to the DST gaps and repeated hours (01:00–03:00), or are midnight or 09:00; 01:30
# (New York) and 02:30 (Berlin) lie inside the skipped or repeated hour, so they are drawn most often.
_INSIDE_THE_CHANGE = (3, 5)
_INTERESTING = (0, 2, 3, 4, 5, 6, 18)
HALF_HOURS = st.one_of(st.sampled_from(_INSIDE_THE_CHANGE), st.sampled_from(_INTERESTING), st.integers(0, 47))
NEAR_THE_CHANGE = st.sampled_from((*_INSIDE_THE_CHANGE, *_INTERESTING))


@st.composite
def restrictions(draw: st.DrawFn, half_hours: st.SearchStrategy[int]) -> DailyWindow | WeeklyWindow | DayKind:
    kind = draw(st.sampled_from(("daily", "weekly", "days")))
    if kind == "daily":
        start, end = draw(st.lists(half_hours, min_size=2, max_size=2, unique=True))
        return DailyWindow(_clock(start), _clock(end))
    if kind == "weekly":
        begin, finish = draw(st.lists(st.tuples(st.integers(0, 6), half_hours), min_size=2, max_size=2, unique=True))
        return WeeklyWindow(begin[0], _clock(begin[1]), finish[0], _clock(finish[1]))
    return DayKind(working=draw(st.booleans()))


@st.composite
def layers(draw: st.DrawFn, base: datetime, focused: bool) -> Layer:
    """A random layer; `focused` layers hand off daily or every few hours at times near the DST change."""
    half_hours = NEAR_THE_CHANGE if focused else HALF_HOURS
    daily = st.just(Turn.daily()) if focused else st.integers(1, 2).map(Turn.daily)
    hourly = st.integers(1, 12 if focused else 72).map(lambda halves: Turn(timedelta(minutes=30 * halves), False))
    turn = draw(st.one_of(daily, hourly) if focused else st.one_of(daily, st.just(Turn.weekly()), hourly))
    participants = st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique=True)
    if not focused:
        participants = st.one_of(participants, st.lists(st.sampled_from(POOL), min_size=1, max_size=4))
    on_the_grid = st.tuples(st.integers(-10, 3), half_hours).map(lambda day_half: day_half[0] * 1440 + 30 * day_half[1])
    offset = draw(on_the_grid if focused else st.one_of(on_the_grid, st.integers(-4 * 1440, 1440)))
    return Layer(
        participants=tuple(draw(participants)),
        rotation_start=base + timedelta(minutes=offset),
        turn=turn,
        restrictions=tuple(draw(st.lists(restrictions(half_hours), max_size=2))),
    )


@st.composite
def scenarios(draw: st.DrawFn, focused: bool = False) -> tuple[Schedule, datetime, int, Callable[[date], bool]]:
    """A schedule and a window; `focused` ones always hold a DST change, with handoffs and edges close to it."""
    zone_name = draw(st.sampled_from(ZONES[1:] if focused else ZONES))
    zone = ZoneInfo(zone_name)
    dst_days = st.sampled_from(ZONE_DST_DAYS[zone_name])
    day = draw(
        dst_days if focused else st.one_of(dst_days, dst_days, dst_days, st.dates(date(2026, 1, 5), date(2026, 12, 25)))
    )
    base = datetime.combine(day, time(0))
    if not focused and draw(
        st.booleans()
    ):  # a window anywhere from three days before to one day after the day's midnight
        local_start = base + timedelta(minutes=30 * draw(st.integers(-3 * 48, 48)))
        minutes = draw(st.integers(1, 4 * 1440))
    else:  # a window that holds the day's 00:00–04:00, where the clocks change
        local_start = base - timedelta(minutes=30 * draw(st.integers(0, 3 * 48)))
        minutes = (base - local_start) // MINUTE + 240 + 30 * draw(st.integers(0, 48))
    window_start = local_start.replace(tzinfo=zone).astimezone(UTC)
    override_list = [
        Override(
            start=(start := window_start + timedelta(minutes=draw(st.integers(-1440, minutes + 600)))),
            end=start + timedelta(minutes=draw(st.integers(1, 2 * 1440))),
            participant=draw(st.sampled_from((*POOL, "x"))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    schedule = Schedule(
        time_zone=zone_name,
        layers=tuple(draw(st.lists(layers(base, focused), min_size=1, max_size=3))),
        overrides=tuple(override_list),
    )
    flipped = frozenset(draw(st.sets(st.dates(day - timedelta(days=5), day + timedelta(days=5)), max_size=4)))

    def is_working(candidate: date) -> bool:
        return (candidate.weekday() < 5) != (candidate in flipped)

    return schedule, window_start, minutes, is_working


# --- property tests --------------------------------------------------------------------------------------------


@settings(max_examples=100)
@given(scenarios())
def test_timeline_matches_the_minute_by_minute_reference(scenario):
    _check_timeline(*scenario)


@settings(max_examples=100)
@given(scenarios(focused=True))
def test_timeline_matches_the_reference_around_dst_changes(scenario):
    _check_timeline(*scenario)


def _check_timeline(schedule: Schedule, start: datetime, minutes: int, is_working: Callable[[date], bool]) -> None:
    end = start + minutes * MINUTE
    expected = Reference(schedule, is_working).walk(start, minutes)

    result = timeline(schedule, start, end, is_working_day=is_working)

    _assert_well_formed(result.final, start, end)
    assert _segments_by_minute(result.final, start, minutes) == [final for final, _ in expected]
    for position, segments in enumerate(result.layers):
        _assert_well_formed(segments, start, end)
        assert _segments_by_minute(segments, start, minutes) == [layer[position] for _, layer in expected]


@settings(max_examples=60)
@given(scenarios())
def test_on_call_matches_the_reference_at_every_minute(scenario):
    schedule, start, minutes, is_working = scenario
    minutes = min(minutes, 1440)
    expected = Reference(schedule, is_working).walk(start, minutes)
    for step, (final, per_layer) in enumerate(expected):
        at = start + step * MINUTE
        assert on_call(schedule, at, is_working_day=is_working) == final, at
        for layer, participant in zip(schedule.layers, per_layer, strict=True):
            assert layer_on_call(layer, schedule.time_zone, at, is_working_day=is_working) == participant, at


# --- hand-written cases ----------------------------------------------------------------------------------------


def test_daily_handoff_at_midnight_in_shanghai():
    layer = Layer(("wang", "li"), datetime(2026, 3, 1, 0, 0), Turn.daily())
    schedule = Schedule("Asia/Shanghai", (layer,))
    assert on_call(schedule, local("Asia/Shanghai", 2026, 3, 1, 23, 59)) == "wang"
    assert on_call(schedule, local("Asia/Shanghai", 2026, 3, 2, 0, 0)) == "li"
    assert on_call(schedule, local("Asia/Shanghai", 2026, 3, 3, 0, 0)) == "wang"
    assert on_call(schedule, local("Asia/Shanghai", 2026, 2, 28, 23, 59)) is None  # before the rotation starts

    result = timeline(schedule, local("Asia/Shanghai", 2026, 3, 1, 12, 0), local("Asia/Shanghai", 2026, 3, 4, 0, 0))
    assert [(s.start, s.participant) for s in result.final] == [
        (local("Asia/Shanghai", 2026, 3, 1, 12, 0), "wang"),
        (local("Asia/Shanghai", 2026, 3, 2, 0, 0), "li"),
        (local("Asia/Shanghai", 2026, 3, 3, 0, 0), "wang"),
    ]
    assert result.final[0].start.tzinfo is UTC


def test_weekly_handoff_monday_0900_keeps_its_wall_clock_across_dst():
    layer = Layer(("anna", "ben", "chen"), datetime(2026, 3, 23, 9, 0), Turn.weekly())
    schedule = Schedule("Europe/Berlin", (layer,))
    assert on_call(schedule, local("Europe/Berlin", 2026, 3, 30, 8, 59)) == "anna"
    assert on_call(schedule, local("Europe/Berlin", 2026, 3, 30, 9, 0)) == "ben"
    assert handoff(layer, schedule.zone, 0) == utc(2026, 3, 23, 8, 0)  # CET
    assert handoff(layer, schedule.zone, 1) == utc(2026, 3, 30, 7, 0)  # CEST: same wall clock, an hour earlier in UTC
    assert on_call(schedule, local("Europe/Berlin", 2026, 4, 6, 9, 0)) == "chen"


def test_night_restriction_19_to_08():
    night = Layer(("nina",), datetime(2026, 1, 1), Turn.daily(), restrictions=(DailyWindow.parse("19:00–08:00"),))
    schedule = Schedule("Asia/Shanghai", (night,))
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 7, 59)) == "nina"
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 8, 0)) is None
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 18, 59)) is None
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 19, 0)) == "nina"

    result = timeline(schedule, local("Asia/Shanghai", 2026, 5, 6, 12, 0), local("Asia/Shanghai", 2026, 5, 8, 12, 0))
    assert result.final == [
        Segment(local("Asia/Shanghai", 2026, 5, 6, 19, 0), local("Asia/Shanghai", 2026, 5, 7, 8, 0), "nina"),
        Segment(local("Asia/Shanghai", 2026, 5, 7, 19, 0), local("Asia/Shanghai", 2026, 5, 8, 8, 0), "nina"),
    ]


def test_weekend_layer_on_top_of_a_weekday_layer():
    weekdays = Layer(("a", "b"), datetime(2026, 6, 1, 9, 0), Turn.daily())
    weekend = Layer(
        ("w",), datetime(2026, 6, 1), Turn.weekly(), restrictions=(WeeklyWindow.parse("Sat 00:00 -> Mon 00:00"),)
    )
    schedule = Schedule("Europe/Berlin", (weekdays, weekend))
    # 2026-06-05 is a Friday, 06-06 Saturday, 06-08 Monday.
    assert on_call(schedule, local("Europe/Berlin", 2026, 6, 5, 23, 59)) == "a"
    assert on_call(schedule, local("Europe/Berlin", 2026, 6, 6, 0, 0)) == "w"
    assert on_call(schedule, local("Europe/Berlin", 2026, 6, 7, 23, 59)) == "w"
    assert on_call(schedule, local("Europe/Berlin", 2026, 6, 8, 0, 0)) == "a"  # the weekday layer shows through
    assert on_call(schedule, local("Europe/Berlin", 2026, 6, 8, 9, 0)) == "b"

    result = timeline(schedule, local("Europe/Berlin", 2026, 6, 5, 12, 0), local("Europe/Berlin", 2026, 6, 8, 12, 0))
    assert [s.participant for s in result.final] == ["a", "w", "a", "b"]
    assert [s.participant for s in result.layers[1]] == ["w"]
    assert len(result.layers[0]) == 4  # 12:00 a, 09:00 b, 09:00 a, 09:00 b: the bottom layer is rendered in full


def test_override_inside_a_restricted_gap():
    night = Layer(("nina",), datetime(2026, 1, 1), Turn.daily(), restrictions=(DailyWindow(time(19), time(8)),))
    cover = Override(local("Asia/Shanghai", 2026, 5, 6, 12, 0), local("Asia/Shanghai", 2026, 5, 6, 20, 0), "zhao")
    schedule = Schedule("Asia/Shanghai", (night,), (cover,))
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 11, 59)) is None
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 12, 0)) == "zhao"
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 19, 30)) == "zhao"  # the override beats the layer
    assert on_call(schedule, local("Asia/Shanghai", 2026, 5, 6, 20, 0)) == "nina"

    result = timeline(schedule, local("Asia/Shanghai", 2026, 5, 6, 0, 0), local("Asia/Shanghai", 2026, 5, 7, 0, 0))
    assert result.final == [
        Segment(local("Asia/Shanghai", 2026, 5, 6, 0, 0), local("Asia/Shanghai", 2026, 5, 6, 8, 0), "nina"),
        Segment(local("Asia/Shanghai", 2026, 5, 6, 12, 0), local("Asia/Shanghai", 2026, 5, 6, 20, 0), "zhao"),
        Segment(local("Asia/Shanghai", 2026, 5, 6, 20, 0), local("Asia/Shanghai", 2026, 5, 7, 0, 0), "nina"),
    ]
    assert result.overrides == [Segment(cover.start, cover.end, "zhao")]


# 2026 Spring Festival (as published by the State Council): Feb 15–23 off, Saturdays Feb 14 and Feb 28 worked.
_SPRING_FESTIVAL = {date(2026, 2, 15) + timedelta(days=n) for n in range(9)}
_MAKE_UP_DAYS = {date(2026, 2, 14), date(2026, 2, 28)}


def _china_2026(day: date) -> bool:
    if day in _MAKE_UP_DAYS:
        return True
    return day.weekday() < 5 and day not in _SPRING_FESTIVAL


def test_non_working_days_layer_skips_a_make_up_saturday():
    holiday_duty = Layer(("h1", "h2"), datetime(2026, 2, 1), Turn.daily(), restrictions=(NON_WORKING_DAYS,))
    office = Layer(("office",), datetime(2026, 2, 1), Turn.weekly(), restrictions=(WORKING_DAYS,))
    schedule = Schedule("Asia/Shanghai", (office, holiday_duty))

    def at(day: int, hour: int = 12) -> object:
        return on_call(schedule, local("Asia/Shanghai", 2026, 2, day, hour, 0), is_working_day=_china_2026)

    assert at(7) == "h1"  # an ordinary Saturday (Feb 7 is day 6 of the rotation: h1)
    assert at(14) == "office"  # the make-up Saturday is a working day
    assert at(16) == "h2"  # a Monday inside the Spring Festival
    assert at(23) == "h1"
    assert at(24) == "office"
    # Without the calendar the make-up Saturday looks like a weekend.
    assert on_call(schedule, local("Asia/Shanghai", 2026, 2, 14, 12, 0)) == "h2"

    result = timeline(
        schedule,
        local("Asia/Shanghai", 2026, 2, 13),
        local("Asia/Shanghai", 2026, 2, 25),
        is_working_day=_china_2026,
    )
    assert result.layers[1][0].start == local("Asia/Shanghai", 2026, 2, 15)
    assert result.layers[1][-1].end == local("Asia/Shanghai", 2026, 2, 24)
    assert [s.participant for s in result.final][:3] == ["office", "h1", "h2"]


def test_spring_forward_daily_0230_handoff_in_berlin():
    layer = Layer(("a", "b"), datetime(2026, 3, 27, 2, 30), Turn.daily())
    zone = ZoneInfo("Europe/Berlin")
    assert [handoff(layer, zone, k) for k in range(4)] == [
        utc(2026, 3, 27, 1, 30),  # 02:30 CET
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 0),  # 02:30 does not exist: the first valid instant after the gap, 03:00 CEST
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]
    assert layer_on_call(layer, zone, utc(2026, 3, 29, 0, 59)) == "b"
    assert layer_on_call(layer, zone, utc(2026, 3, 29, 1, 0)) == "a"
    schedule = Schedule("Europe/Berlin", (layer,))
    result = timeline(schedule, utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0))
    assert [(s.start, s.participant) for s in result.final] == [
        (utc(2026, 3, 28, 12, 0), "b"),
        (utc(2026, 3, 29, 1, 0), "a"),
        (utc(2026, 3, 30, 0, 30), "b"),
    ]


def test_fall_back_handoff_uses_the_first_occurrence():
    zone = ZoneInfo("Europe/Berlin")
    assert resolve_local(datetime(2026, 10, 25, 2, 30), zone) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not CET
    assert resolve_local(datetime(2026, 3, 8, 2, 30), ZoneInfo("America/New_York")) == utc(2026, 3, 8, 7, 0)


def test_custom_hour_turns_count_elapsed_time_across_dst():
    layer = Layer(("day", "night"), datetime(2026, 3, 28, 8, 0), Turn.hours(12))
    zone = ZoneInfo("Europe/Berlin")
    # 08:00 CET, 20:00 CET, then 12 real hours later is 09:00 CEST.
    assert [handoff(layer, zone, k) for k in range(3)] == [
        utc(2026, 3, 28, 7, 0),
        utc(2026, 3, 28, 19, 0),
        utc(2026, 3, 29, 7, 0),
    ]
    assert layer_on_call(layer, zone, local("Europe/Berlin", 2026, 3, 29, 8, 59)) == "night"
    assert layer_on_call(layer, zone, local("Europe/Berlin", 2026, 3, 29, 9, 0)) == "day"


def test_restriction_in_the_repeated_hour_applies_to_both_passes():
    layer = Layer(("a",), datetime(2026, 10, 1), Turn.daily(), restrictions=(DailyWindow(time(2, 15), time(2, 45)),))
    schedule = Schedule("Europe/Berlin", (layer,))
    result = timeline(schedule, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 4, 0))
    assert result.final == [
        Segment(utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 0, 45), "a"),  # CEST pass
        Segment(utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 1, 45), "a"),  # CET pass
    ]


def test_single_participant_is_one_merged_segment_and_participant_zero_counts():
    schedule = Schedule("America/New_York", (Layer((0,), datetime(2026, 1, 1, 9), Turn.daily()),))
    result = timeline(schedule, utc(2026, 3, 1), utc(2026, 3, 15))
    assert result.final == [Segment(utc(2026, 3, 1), utc(2026, 3, 15), 0)]
    assert on_call(schedule, utc(2026, 3, 8, 12)) == 0


def test_later_override_wins_where_overrides_overlap():
    base = Layer(("a",), datetime(2026, 1, 1), Turn.daily())
    first = Override(utc(2026, 5, 1, 0), utc(2026, 5, 1, 12), "x")
    second = Override(utc(2026, 5, 1, 6), utc(2026, 5, 1, 8), "y")
    schedule = Schedule("UTC", (base,), (first, second))
    result = timeline(schedule, utc(2026, 5, 1, 0), utc(2026, 5, 1, 14))
    assert [(s.start.hour, s.end.hour, s.participant) for s in result.final] == [
        (0, 6, "x"),
        (6, 8, "y"),
        (8, 12, "x"),
        (12, 14, "a"),
    ]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Layer((), datetime(2026, 1, 1), Turn.daily()), "at least one participant"),
        (lambda: Turn.hours(0), "longer than zero"),
        (lambda: Turn.daily(-1), "longer than zero"),
        (lambda: Turn(timedelta(hours=30), wall_clock=True), "whole number of days"),
        (lambda: DailyWindow(time(8), time(8)), "start != end"),
        (lambda: DailyWindow.parse("8:00-8:00"), "start != end"),
        (lambda: WeeklyWindow.parse("Sat 00:00 -> Sat 00:00"), "start != end"),
        (lambda: WeeklyWindow(7, time(0), 0, time(0)), "0 \\(Monday\\) to 6"),
        (lambda: Layer(("a",), datetime(2026, 1, 1, tzinfo=UTC), Turn.daily()), "naive"),
        (lambda: Override(utc(2026, 1, 2), utc(2026, 1, 1), "a"), "end after it starts"),
        (lambda: Override(datetime(2026, 1, 1), utc(2026, 1, 2), "a"), "timezone-aware"),
        (lambda: Schedule("Mars/Olympus_Mons"), "unknown time zone"),
        (lambda: on_call(Schedule("UTC"), datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: timeline(Schedule("UTC"), utc(2026, 1, 2), utc(2026, 1, 1)), "end after it starts"),
    ],
)
def test_invalid_input_is_rejected_with_a_clear_message(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_parsers():
    assert DailyWindow.parse("19:00-08:00") == DailyWindow(time(19), time(8))
    assert DailyWindow.parse("22:30 → 24:00") == DailyWindow(time(22, 30), time(0))
    assert WeeklyWindow.parse("Sat 00:00 → Mon 00:00") == WeeklyWindow(5, time(0), 0, time(0))
    assert WeeklyWindow.parse("friday 18:00 - monday 09:00") == WeeklyWindow(4, time(18), 0, time(9))
    with pytest.raises(ValueError, match="like 19:00"):
        DailyWindow.parse("7pm-8am")
