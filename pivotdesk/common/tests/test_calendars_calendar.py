"""Business-time arithmetic against a brute-force reference that walks minute by minute, plus the issue's examples.

The reference steps over real minutes (UTC instants), converts each to local wall-clock time with zoneinfo and asks
whether that local minute is inside an opening range — the definition of business time in docs/sla.md, written
independently of the fast per-year interval tables in `calendar.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pivotdesk.common.calendars.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_open,
    next_open,
    with_country_holidays,
)

UTC = dt.UTC
SH = ZoneInfo("Asia/Shanghai")
MIN = dt.timedelta(minutes=1)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHEAP = settings(max_examples=200, deadline=None)

ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
# Instants near the interesting places: DST changes (New York, Berlin, Lord Howe's 30-minute one), a year boundary,
# Spring Festival 2026 and its make-up Saturday.
ANCHORS = [
    dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York spring forward, 02:00 → 03:00 local
    dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York fall back, 02:00 → 01:00 local
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin spring forward
    dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin fall back
    dt.datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe: 02:00 → 01:30
    dt.datetime(2026, 12, 31, 12, 0, tzinfo=UTC),  # year boundary (in every zone within ±3 days)
    dt.datetime(2026, 2, 14, 0, 0, tzinfo=UTC),  # Spring Festival
]
INPUT_ZONES = [UTC, SH, ZoneInfo("America/Los_Angeles"), dt.timezone(dt.timedelta(hours=5, minutes=30))]


@st.composite
def day_ranges(draw):
    """0–2 sorted, non-overlapping ranges; boundaries on a 30-minute grid plus a few odd minutes."""
    points = st.one_of(st.integers(0, 48).map(lambda n: n * 30), st.integers(0, 1440))
    cuts = sorted(set(draw(st.lists(points, min_size=0, max_size=4))))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return tuple((cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2))


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()) and draw(st.booleans()):
        return BusinessCalendar.always_open(zone)
    weekly = {day: draw(day_ranges()) for day in range(7)}
    # Dense enough that the reference walk stays short: at least three weekdays with two hours or more.
    busy = draw(st.lists(st.integers(0, 6), min_size=3, max_size=5, unique=True))
    for day in busy:
        if sum(e - s for s, e in weekly[day]) < 120:
            weekly[day] = draw(st.sampled_from([((540, 1080),), ((540, 720), (780, 1080)), ((0, 1440),), ((60, 240),)]))
    anchor_days = [a.date() + dt.timedelta(days=k) for a in ANCHORS for k in range(-3, 4)]
    closed = frozenset(draw(st.lists(st.sampled_from(anchor_days), max_size=4)))
    extra = draw(st.dictionaries(st.sampled_from(anchor_days), day_ranges(), max_size=3))
    return BusinessCalendar(time_zone=zone, weekly=weekly, closed=closed, extra_workdays=extra)


@st.composite
def instants(draw, *, minute_aligned=True):
    anchor = draw(st.sampled_from(ANCHORS))
    offset = dt.timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    if not minute_aligned:
        offset += dt.timedelta(microseconds=draw(st.integers(0, 59_999_999)))
    return (anchor + offset).astimezone(draw(st.sampled_from(INPUT_ZONES)))


def utc(at: dt.datetime) -> dt.datetime:
    """Compare instants in UTC: PEP 495 makes a datetime inside a fall-back overlap unequal to every datetime of
    another zone, even at the same instant."""
    return at.astimezone(UTC)


# -- the brute-force reference -------------------------------------------------------------------------------------


def ref_open(calendar: BusinessCalendar, instant: dt.datetime) -> bool:
    local = instant.astimezone(ZoneInfo(calendar.time_zone))
    day = local.date()
    if day in calendar.extra_workdays:
        ranges = calendar.extra_workdays[day]
    elif day in calendar.closed:
        ranges = ()
    else:
        ranges = calendar.weekly.get(day.weekday(), ())
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in ranges)


def ref_add(calendar: BusinessCalendar, start: dt.datetime, minutes: int) -> dt.datetime | None:
    t = start.astimezone(UTC)
    counted = 0
    if minutes == 0:
        return t
    for _ in range(60 * 1440):
        if ref_open(calendar, t):
            counted += 1
        t += MIN
        if counted == minutes:
            return t
    return None


def ref_between(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    t, end = start.astimezone(UTC), end.astimezone(UTC)
    counted = 0
    while t < end:
        counted += ref_open(calendar, t)
        t += MIN
    return counted * MIN


# -- properties ----------------------------------------------------------------------------------------------------


@PROPERTY
@given(calendars(), instants(), st.integers(0, 1500))
def test_add_business_time_agrees_with_the_minute_walk(calendar, start, minutes):
    expected = ref_add(calendar, start, minutes)
    assume(expected is not None)
    got = add_business_time(calendar, start, dt.timedelta(minutes=minutes))
    assert utc(got) == utc(expected)
    assert got.tzinfo is not None
    assert got.utcoffset() == got.astimezone(ZoneInfo(calendar.time_zone)).utcoffset()


@PROPERTY
@given(calendars(), instants(), st.integers(0, 4 * 1440))
def test_business_time_between_agrees_with_the_minute_walk(calendar, start, minutes):
    end = start + dt.timedelta(minutes=minutes)
    assert business_time_between(calendar, start, end) == ref_between(calendar, start, end)


@PROPERTY
@given(calendars(), instants())
def test_is_open_and_next_open_agree_with_the_reference(calendar, at):
    assert is_open(calendar, at) == ref_open(calendar, at)
    opening = next_open(calendar, at)
    assert opening is not None  # every generated calendar has business time
    assert opening >= at
    assert is_open(calendar, opening)
    assert business_time_between(calendar, at, opening) == dt.timedelta(0)
    if utc(opening) - utc(at) <= dt.timedelta(days=20):
        first = utc(at)  # walk real minutes: `+ MIN` on a zoned datetime is wall-clock arithmetic (PEP 495)
        while not ref_open(calendar, first):
            first += MIN
        assert utc(opening) == utc(first)


@CHEAP
@given(calendars(), instants(minute_aligned=False), st.integers(0, 30 * 86_400_000_000))
def test_between_undoes_add(calendar, start, microseconds):
    amount = dt.timedelta(microseconds=microseconds)
    end = add_business_time(calendar, start, amount)
    assert business_time_between(calendar, start, end) == amount
    assert end >= start


@CHEAP
@given(
    calendars(),
    instants(minute_aligned=False),
    st.integers(0, 5 * 86_400_000_000),
    st.integers(0, 5 * 86_400_000_000),
)
def test_add_is_monotonic_in_the_amount(calendar, start, a, b):
    small, large = sorted((a, b))
    assert add_business_time(calendar, start, dt.timedelta(microseconds=small)) <= add_business_time(
        calendar, start, dt.timedelta(microseconds=large)
    )


@CHEAP
@given(calendars(), instants(minute_aligned=False), instants(minute_aligned=False), st.integers(1, 3000))
def test_add_is_monotonic_in_the_start(calendar, s1, s2, minutes):
    early, late = sorted((s1, s2), key=utc)
    amount = dt.timedelta(minutes=minutes)
    assert add_business_time(calendar, early, amount) <= add_business_time(calendar, late, amount)


@CHEAP
@given(calendars(), instants(minute_aligned=False), instants(minute_aligned=False), instants(minute_aligned=False))
def test_between_is_additive_and_bounded_by_elapsed_time(calendar, a, b, c):
    a, b, c = sorted((a, b, c), key=utc)
    assert business_time_between(calendar, a, c) == business_time_between(calendar, a, b) + business_time_between(
        calendar, b, c
    )
    assert business_time_between(calendar, c, a) == dt.timedelta(0)
    # Business time is real time, never more than the elapsed time (aware subtraction in one zone is wall-clock).
    assert business_time_between(calendar, a, c) <= utc(c) - utc(a)


@CHEAP
@given(st.sampled_from(ZONES), instants(minute_aligned=False), st.integers(0, 400 * 86_400_000_000))
def test_always_open_is_plain_elapsed_time(zone, start, microseconds):
    calendar = BusinessCalendar.always_open(zone)
    amount = dt.timedelta(microseconds=microseconds)
    assert utc(add_business_time(calendar, start, amount)) == utc(start) + amount
    assert business_time_between(calendar, start, utc(start) + amount) == amount


# -- the named examples ------------------------------------------------------------------------------------


def china(lunch: bool) -> BusinessCalendar:
    ranges = ((540, 720), (780, 1080)) if lunch else ((540, 1080),)
    base = BusinessCalendar(time_zone="Asia/Shanghai", weekly=dict.fromkeys(range(5), ranges))
    return with_country_holidays(base, "CN", [2026, 2027])


@pytest.mark.parametrize("lunch", [False, True])
def test_two_hours_from_friday_afternoon_land_on_the_make_up_saturday(lunch):
    calendar = china(lunch)
    assert dt.date(2026, 2, 14) in calendar.extra_workdays
    got = add_business_time(calendar, dt.datetime(2026, 2, 13, 17, 0, tzinfo=SH), dt.timedelta(hours=2))
    assert got == dt.datetime(2026, 2, 14, 10, 0, tzinfo=SH)
    assert got.tzinfo == SH


def test_spring_festival_is_skipped():
    calendar = china(lunch=True)
    # Sat 14 Feb (make-up day) 17:00 + 2 h: Sun 15 closed, 16–20 Spring Festival, 21–22 weekend, Mon 23 a
    # holiday made up on Sat 28 Feb → Tuesday 24 Feb 10:00.
    got = add_business_time(calendar, dt.datetime(2026, 2, 14, 17, 0, tzinfo=SH), dt.timedelta(hours=2))
    assert got == dt.datetime(2026, 2, 24, 10, 0, tzinfo=SH)
    for day in range(15, 24):
        assert not is_open(calendar, dt.datetime(2026, 2, day, 10, 0, tzinfo=SH))
    assert is_open(calendar, dt.datetime(2026, 2, 28, 10, 0, tzinfo=SH))  # Saturday, a make-up working day
    # 14 Feb to 1 Mar: Sat 14, Tue 24–Fri 27 and Sat 28 are the only working days → 6 × 8 h.
    between = business_time_between(
        calendar, dt.datetime(2026, 2, 14, 0, 0, tzinfo=SH), dt.datetime(2026, 3, 1, 0, 0, tzinfo=SH)
    )
    assert between == dt.timedelta(hours=6 * 8)


def test_lunch_break_is_skipped():
    calendar = china(lunch=True)
    monday = dt.datetime(2026, 3, 2, 11, 30, tzinfo=SH)
    assert add_business_time(calendar, monday, dt.timedelta(hours=1)) == dt.datetime(2026, 3, 2, 13, 30, tzinfo=SH)
    assert not is_open(calendar, dt.datetime(2026, 3, 2, 12, 30, tzinfo=SH))
    assert next_open(calendar, dt.datetime(2026, 3, 2, 12, 30, tzinfo=SH)) == dt.datetime(2026, 3, 2, 13, tzinfo=SH)


def test_a_target_running_out_at_closing_time_is_due_at_closing_time():
    calendar = china(lunch=False)
    friday = dt.datetime(2026, 3, 6, 16, 0, tzinfo=SH)
    assert add_business_time(calendar, friday, dt.timedelta(hours=2)) == dt.datetime(2026, 3, 6, 18, tzinfo=SH)
    assert add_business_time(calendar, friday, dt.timedelta(hours=2, seconds=1)) == dt.datetime(
        2026, 3, 9, 9, 0, 1, tzinfo=SH
    )


def test_counting_starts_at_the_next_opening_and_zero_returns_the_start():
    calendar = china(lunch=False)
    saturday = dt.datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # Sunday 04:00 in Shanghai
    assert add_business_time(calendar, saturday, dt.timedelta(minutes=30)) == dt.datetime(2026, 3, 9, 9, 30, tzinfo=SH)
    zero = add_business_time(calendar, saturday, dt.timedelta(0))
    assert zero == saturday
    assert zero.tzinfo == SH


def test_new_year_and_a_long_amount_cross_years():
    calendar = china(lunch=False)
    eve = dt.datetime(2026, 12, 31, 17, 0, tzinfo=SH)
    # 31 Dec 17:00–18:00, 1 Jan 2027 is New Year's Day (closed), 2–3 Jan weekend → Monday 4 Jan 09:00 + 1 h.
    assert add_business_time(calendar, eve, dt.timedelta(hours=2)) == dt.datetime(2027, 1, 4, 10, tzinfo=SH)
    year_2026 = business_time_between(calendar, dt.datetime(2026, 1, 1, tzinfo=SH), dt.datetime(2027, 1, 1, tzinfo=SH))
    assert year_2026 % dt.timedelta(hours=9) == dt.timedelta(0)  # 09:00–18:00 without the lunch break: 9 h a day
    assert 240 <= year_2026 / dt.timedelta(hours=9) <= 255
    start = dt.datetime(2026, 3, 1, tzinfo=SH)
    far = add_business_time(calendar, start, year_2026)
    assert dt.datetime(2027, 2, 1, tzinfo=SH) < far < dt.datetime(2027, 4, 1, tzinfo=SH)
    assert business_time_between(calendar, start, far) == year_2026


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", dt.date(2026, 3, 8), 23),
        ("America/New_York", dt.date(2026, 11, 1), 25),
        ("Europe/Berlin", dt.date(2026, 3, 29), 23),
        ("Europe/Berlin", dt.date(2026, 10, 25), 25),
        ("Europe/Berlin", dt.date(2026, 10, 26), 24),
    ],
)
def test_calendar_hours_on_dst_days_are_real_hours(zone, day, hours):
    calendar = BusinessCalendar.always_open(zone)
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    assert business_time_between(calendar, start, end) == dt.timedelta(hours=hours)


def test_night_shift_over_the_berlin_dst_changes():
    # Open 01:00–04:00 on Sundays. Spring forward skips 02:00–03:00 (2 h); fall back repeats 02:00–03:00 (4 h).
    calendar = BusinessCalendar(time_zone="Europe/Berlin", weekly={6: ((60, 240),)})
    berlin = ZoneInfo("Europe/Berlin")

    def sunday(day):
        return business_time_between(
            calendar, dt.datetime.combine(day, dt.time(), tzinfo=berlin), dt.datetime.combine(day, dt.time(12), berlin)
        )

    assert sunday(dt.date(2026, 3, 22)) == dt.timedelta(hours=3)
    assert sunday(dt.date(2026, 3, 29)) == dt.timedelta(hours=2)
    assert sunday(dt.date(2026, 10, 25)) == dt.timedelta(hours=4)
    # 3 h from Sunday 29 March 00:00: 01:00–02:00, then 03:00–04:00 (02:00 does not exist), then next Sunday 01:00.
    got = add_business_time(calendar, dt.datetime(2026, 3, 29, tzinfo=berlin), dt.timedelta(hours=3))
    assert got == dt.datetime(2026, 4, 5, 2, 0, tzinfo=berlin)


def test_new_york_business_day_across_spring_forward():
    calendar = BusinessCalendar(time_zone="America/New_York", weekly=dict.fromkeys(range(7), ((540, 1020),)))
    ny = ZoneInfo("America/New_York")
    # Saturday 7 March 16:00 EST + 2 h → Sunday 8 March 10:00 EDT (the DST change is outside business hours).
    got = add_business_time(calendar, dt.datetime(2026, 3, 7, 16, tzinfo=ny), dt.timedelta(hours=2))
    assert got == dt.datetime(2026, 3, 8, 10, tzinfo=ny)
    assert got.utcoffset() == dt.timedelta(hours=-4)


# -- validation and edges ------------------------------------------------------------------------------------------


def test_extra_workday_overrides_closed_and_weekly():
    day = dt.date(2026, 5, 9)  # a Saturday
    calendar = BusinessCalendar(
        time_zone="UTC",
        weekly={0: ((540, 1020),)},
        closed=frozenset({day, dt.date(2026, 5, 11)}),
        extra_workdays={day: ((600, 660),)},
    )
    assert is_open(calendar, dt.datetime(2026, 5, 9, 10, 30, tzinfo=UTC))
    assert not is_open(calendar, dt.datetime(2026, 5, 9, 9, 30, tzinfo=UTC))
    assert not is_open(calendar, dt.datetime(2026, 5, 11, 10, 30, tzinfo=UTC))  # closed Monday
    assert is_open(calendar, dt.datetime(2026, 5, 18, 10, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_zone": "Mars/Olympus", "weekly": {}}, "time zone"),
        ({"time_zone": "UTC", "weekly": {7: ((0, 60),)}}, "weekday"),
        ({"time_zone": "UTC", "weekly": {0: ((600, 540),)}}, "0 ≤ start < end"),
        ({"time_zone": "UTC", "weekly": {0: ((0, 1441),)}}, "0 ≤ start < end"),
        ({"time_zone": "UTC", "weekly": {0: ((0, 600), (540, 700))}}, "overlap"),
        ({"time_zone": "UTC", "weekly": {0: ((700, 800), (0, 600))}}, "sorted"),
        ({"time_zone": "UTC", "weekly": {0: ("9-5",)}}, "pairs of minutes"),
        ({"time_zone": "UTC", "weekly": {}, "extra_workdays": {"2026-01-01": ((0, 60),)}}, "date"),
    ],
)
def test_invalid_calendars_are_rejected_readably(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)


def test_calendars_are_immutable_hashable_and_equal_by_value():
    weekly = {0: [(540, 1080)]}
    a = BusinessCalendar(time_zone="UTC", weekly=weekly)
    weekly[0].append((1100, 1200))  # mutating the caller's dict later does not change the calendar
    b = BusinessCalendar(time_zone="UTC", weekly={0: ((540, 1080),)})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    with pytest.raises(TypeError):
        a.weekly[1] = ((0, 60),)
    china_calendar = china(lunch=True)
    add_business_time(china_calendar, dt.datetime(2026, 3, 2, tzinfo=SH), MIN)  # fills the cache
    copy = pickle.loads(pickle.dumps(china_calendar))  # noqa: S301 - our own bytes
    assert copy == china_calendar
    assert copy.extra_workdays[dt.date(2026, 2, 14)] == ((540, 720), (780, 1080))
    assert dataclasses.replace(a, closed=frozenset({dt.date(2026, 3, 2)})).closed == {dt.date(2026, 3, 2)}


def test_bad_arguments_raise_value_errors():
    calendar = BusinessCalendar.always_open()
    naive = dt.datetime(2026, 1, 1, 9, 0)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(calendar, naive, MIN)
    with pytest.raises(ValueError, match="aware"):
        is_open(calendar, naive)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(calendar, dt.datetime(2026, 1, 1, tzinfo=UTC), -MIN)


def test_a_calendar_without_business_time_raises_instead_of_looping():
    never = BusinessCalendar(time_zone="UTC", weekly={})
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="no business time"):
        add_business_time(never, start, MIN)
    assert next_open(never, start) is None
    assert business_time_between(never, start, start + dt.timedelta(days=800)) == dt.timedelta(0)
    # Open only on one day three years later: still "nothing within two years".
    far = BusinessCalendar(time_zone="UTC", weekly={}, extra_workdays={dt.date(2029, 6, 1): ((0, 60),)})
    with pytest.raises(ValueError, match="no business time"):
        add_business_time(far, start, MIN)
    soon = BusinessCalendar(time_zone="UTC", weekly={}, extra_workdays={dt.date(2027, 6, 1): ((0, 60),)})
    assert add_business_time(soon, start, MIN) == dt.datetime(2027, 6, 1, 0, 1, tzinfo=UTC)


def test_country_holidays():
    base = BusinessCalendar(time_zone="Europe/Berlin", weekly=dict.fromkeys(range(5), ((540, 1020),)))
    german = with_country_holidays(base, "DE", [2026], subdivision="BY")
    assert dt.date(2026, 1, 6) in german.closed  # Epiphany, Bavaria only
    assert dt.date(2026, 12, 25) in german.closed
    assert not german.extra_workdays
    assert dt.date(2026, 1, 6) not in with_country_holidays(base, "DE", [2026], subdivision="BE").closed
    with pytest.raises(ValueError, match="no public holidays"):
        with_country_holidays(base, "XX", [2026])
    # Make-up days take the first weekday's ranges when Monday is closed.
    tuesday_first = BusinessCalendar(time_zone="Asia/Shanghai", weekly={1: ((600, 900),), 2: ((540, 1080),)})
    assert with_country_holidays(tuesday_first, "CN", [2026]).extra_workdays[dt.date(2026, 2, 14)] == ((600, 900),)
    # Make-up days of years not asked for are not added.
    assert all(day.year == 2026 for day in with_country_holidays(base, "CN", [2026]).extra_workdays)
