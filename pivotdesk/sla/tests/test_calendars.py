"""Stored business calendars → the domain calendar: China's holidays and make-up days, custom dates, caching."""

from __future__ import annotations

import datetime as dt

from pivotdesk.common.calendars.calendar import add_business_time, is_open
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory

NINE_TO_SIX = {str(d): [["09:00", "18:00"]] for d in range(5)}


def test_two_business_hours_from_friday_evening_land_on_the_make_up_saturday(workspace):
    calendar = CalendarFactory(workspace=workspace, weekly_hours=NINE_TO_SIX, country="CN")
    cal = calendar.to_domain((2026,))
    start = dt.datetime(2026, 2, 13, 17, 0, tzinfo=SH)
    assert add_business_time(cal, start, dt.timedelta(hours=2)) == dt.datetime(2026, 2, 14, 10, 0, tzinfo=SH)


def test_spring_festival_is_closed(workspace):
    cal = CalendarFactory(workspace=workspace, weekly_hours=NINE_TO_SIX).to_domain((2026,))
    assert not is_open(cal, dt.datetime(2026, 2, 17, 10, 0, tzinfo=SH))  # 春节, a Tuesday


def test_custom_dates_win_over_the_countrys(workspace):
    calendar = CalendarFactory(
        workspace=workspace,
        weekly_hours=NINE_TO_SIX,
        closed_dates=["2026-02-14", "2026-03-03"],  # closed on the make-up Saturday and on a Tuesday
        working_dates={"2026-02-17": [["10:00", "12:00"]], "2026-03-07": []},  # open on 春节, and a Saturday
    )
    cal = calendar.to_domain((2026,))
    assert not is_open(cal, dt.datetime(2026, 2, 14, 10, 0, tzinfo=SH))
    assert not is_open(cal, dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH))
    assert is_open(cal, dt.datetime(2026, 2, 17, 11, 0, tzinfo=SH))
    assert not is_open(cal, dt.datetime(2026, 2, 17, 13, 0, tzinfo=SH))
    assert is_open(cal, dt.datetime(2026, 3, 7, 17, 30, tzinfo=SH))


def test_no_country_means_no_holidays(workspace):
    cal = CalendarFactory(workspace=workspace, weekly_hours=NINE_TO_SIX, country="").to_domain((2026,))
    assert is_open(cal, dt.datetime(2026, 2, 17, 10, 0, tzinfo=SH))
    assert not is_open(cal, dt.datetime(2026, 2, 14, 10, 0, tzinfo=SH))


def test_domain_calendar_is_cached_until_the_row_changes(workspace):
    calendar = CalendarFactory(workspace=workspace, weekly_hours=NINE_TO_SIX)
    first = calendar.to_domain((2026,))
    assert calendar.to_domain((2026,)) is first
    calendar.closed_dates = ["2026-03-03"]
    calendar.save()
    changed = calendar.to_domain((2026,))
    assert changed is not first
    assert not is_open(changed, dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH))
