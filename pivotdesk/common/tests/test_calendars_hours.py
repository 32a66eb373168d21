"""Parsing the stored shapes of business hours: weekly ranges with lunch breaks, closed dates, make-up working days."""

from __future__ import annotations

import pytest

from pivotdesk.common.calendars.hours import (
    HoursError,
    parse_closed_dates,
    parse_ranges,
    parse_weekly,
    parse_working_dates,
)


def test_hours_parse_lunch_breaks_and_reject_nonsense():
    assert parse_ranges([["13:00", "18:00"], ["09:00", "12:00"]], "w") == ((540, 720), (780, 1080))
    assert parse_weekly({"0": [["09:00", "24:00"]]}) == {0: ((540, 1440),)}
    for bad in ([["09:00", "08:00"]], [["09:00", "12:00"], ["11:00", "13:00"]], [["9:00", "12:00"]], "09-18"):
        with pytest.raises(HoursError):
            parse_ranges(bad, "w")
    with pytest.raises(HoursError):
        parse_weekly({"7": []})
    with pytest.raises(HoursError):
        parse_closed_dates(["2026-02-30"])


def test_working_date_without_hours_gets_the_standard_day():
    weekly = parse_weekly({"0": [["09:00", "12:00"], ["13:00", "18:00"]]})
    days = parse_working_dates({"2026-02-14": [], "2026-02-15": [["10:00", "12:00"]]}, weekly)
    assert [days[d] for d in sorted(days)] == [((540, 720), (780, 1080)), ((600, 720),)]
