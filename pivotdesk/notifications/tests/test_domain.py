"""Pure rules: quiet-hours windows, channel resolution, back-off."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.notifications.domain.channels import channels_for, group_of, matches
from pivotdesk.notifications.domain.quiet import in_window, quiet_until

times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
zones = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe"])
instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)).map(
    lambda d: d.replace(tzinfo=dt.UTC)
)


def test_window_crossing_midnight():
    start, end = dt.time(22), dt.time(7)
    assert in_window(dt.time(23, 30), start, end)
    assert in_window(dt.time(3), start, end)
    assert not in_window(dt.time(7), start, end)
    assert not in_window(dt.time(12), start, end)
    assert not in_window(dt.time(12), dt.time(9), dt.time(9))  # empty window


def test_quiet_until_next_morning_in_agent_zone():
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    at = dt.datetime(2026, 3, 1, 23, 15, tzinfo=tz)
    assert quiet_until(at, dt.time(22), dt.time(7)) == dt.datetime(2026, 3, 2, 7, 0, tzinfo=tz)
    early = dt.datetime(2026, 3, 2, 5, 0, tzinfo=tz)
    assert quiet_until(early, dt.time(22), dt.time(7)) == dt.datetime(2026, 3, 2, 7, 0, tzinfo=tz)
    assert quiet_until(dt.datetime(2026, 3, 2, 9, 0, tzinfo=tz), dt.time(22), dt.time(7)) is None


def test_quiet_until_across_dst_gap_is_a_real_later_instant():
    tz = zoneinfo.ZoneInfo("Europe/Berlin")  # 2026-03-29 02:00 → 03:00
    at = dt.datetime(2026, 3, 29, 1, 30, tzinfo=tz)
    until = quiet_until(at, dt.time(1), dt.time(2, 30))
    assert until is not None and until > at
    assert until.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)


@given(instants, zones, times, times)
def test_quiet_until_properties(at_utc, zone, start, end):
    at = at_utc.astimezone(zoneinfo.ZoneInfo(zone))
    until = quiet_until(at, start, end)
    inside = in_window(at.time().replace(tzinfo=None), start, end)
    assert (until is None) == (not inside)
    if until is not None:
        assert at < until <= at + dt.timedelta(hours=26)
        # Just before the end it is still quiet (unless a DST shift moved the wall clock).
        before = (until - dt.timedelta(minutes=1)).astimezone(at.tzinfo)
        if before.utcoffset() == until.utcoffset() == at.utcoffset():
            assert in_window(before.time().replace(tzinfo=None), start, end)
            assert until.time().replace(tzinfo=None) == end


def test_quiet_until_ignores_the_fold_of_an_end_inside_a_dst_gap():
    # Found by hypothesis: Berlin springs forward 2024-03-31 02:00 → 03:00; an end of 02:00 with fold=1 used to
    # come back as 01:00 (the instant before the gap).
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    at = dt.datetime(2024, 3, 31, 0, 30, tzinfo=tz)
    until = quiet_until(at, dt.time(0), dt.time(2, 0, fold=1))
    assert until is not None and until > at
    assert until.astimezone(dt.UTC) == dt.datetime(2024, 3, 31, 1, 0, tzinfo=dt.UTC)  # 03:00 CEST


def test_channels_precedence_and_defaults():
    defaults = {"sla.breach": ["email"], "*": []}
    assert channels_for("sla.breach", {}, defaults) == ["email"]
    assert channels_for("sla.breach", {"sla.*": ["apprise"]}, defaults) == ["apprise"]
    assert channels_for("sla.breach", {"sla.*": ["apprise"], "sla.breach": []}, defaults) == []
    assert channels_for("other", {"*": ["apprise", "email", "fax"]}, defaults) == ["email", "apprise"]
    assert channels_for("other", None, defaults) == []
    assert group_of("sla.breach") == "sla.*" and group_of("plain") == "plain.*"
    assert matches("sla.breach", []) and matches("sla.breach", ["sla.*"]) and not matches("sla.breach", ["routing.*"])


kinds = st.from_regex(r"[a-z]{1,6}(\.[a-z]{1,6})?", fullmatch=True)
chan_lists = st.lists(st.sampled_from(["email", "apprise", "sms", ""]), max_size=4)


@given(kinds, st.dictionaries(st.sampled_from(["*", "sla.*", "sla.breach", "a.*", "a"]), chan_lists))
def test_channels_for_is_a_subset_of_known_channels_without_duplicates(kind, mapping):
    out = channels_for(kind, mapping, {"*": ["email"]})
    assert set(out) <= {"email", "apprise"} and len(out) == len(set(out))
    # An exact-kind entry always wins.
    if kind in mapping:
        assert out == [c for c in ("email", "apprise") if c in mapping[kind]]
