"""Forecasting: calendar, events, intervals, backtests, model quality on synthetic Poisson data, intraday re-forecast."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain import forecast as fc
from pivotdesk.workforce.domain.history import HistoryRow

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 1, 5)
WEEKDAY_LEVEL = (1.3, 1.0, 0.95, 0.95, 1.1)  # Monday busiest


def synthetic(
    *, weeks: int, interval: int = 60, seed: int = 0, scale: float = 40.0, skip: frozenset[date] = frozenset()
) -> list[HistoryRow]:
    """Poisson counts, weekdays 08:00–20:00: a morning and an afternoon peak, Monday busier; `skip` days closed."""
    rng = np.random.default_rng(seed)
    per_hour = 60 // interval
    rows = []
    for d in range(weeks * 7):
        day = MONDAY + timedelta(days=d)
        if day.weekday() >= 5 or day in skip:
            continue
        for slot in range(12 * per_hour):
            hour = 8 + slot / per_hour
            shape = 0.4 + math.exp(-(((hour - 10.5) / 1.5) ** 2)) + 0.7 * math.exp(-(((hour - 15) / 2) ** 2))
            mean = scale * shape * WEEKDAY_LEVEL[day.weekday()] / per_hour
            ts = datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + timedelta(minutes=slot * interval)
            rows.append(HistoryRow(ts=ts, count=int(rng.poisson(mean))))
    return rows


def series(**kwargs) -> fc.Series:
    interval = kwargs.get("interval", 60)
    return fc.to_series(synthetic(**kwargs), interval_minutes=interval, tz=TZ)


def day_totals(result: fc.ForecastResult) -> dict[date, float]:
    out: dict[date, float] = {}
    for p in result.points:
        out[p.ts.date()] = out.get(p.ts.date(), 0.0) + p.mean
    return out


def test_to_series_buckets_by_local_interval():
    rows = [
        HistoryRow(ts=datetime(2026, 1, 5, 9, 5, tzinfo=TZ), count=2),
        HistoryRow(ts=datetime(2026, 1, 5, 9, 25, tzinfo=TZ), count=3),
        HistoryRow(ts=datetime(2026, 1, 5, 1, 40, tzinfo=ZoneInfo("UTC")), count=4),  # 09:40 in Shanghai
    ]
    s = fc.to_series(rows, interval_minutes=30, tz=TZ)
    assert s.days == (MONDAY,)
    assert s.counts[0, 18] == 5 and s.counts[0, 19] == 4 and s.counts.sum() == 9


def test_forecast_covers_the_next_open_days_inside_inferred_hours():
    s = series(weeks=4)
    result = fc.fit_forecast(s, horizon_days=3, model="profile", include_closed=False)
    assert result.days == [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)]  # after Friday 2026-01-30
    hours = {p.ts.hour for p in result.points}
    assert hours == set(range(8, 20))
    assert len(result.points) == 3 * 12


def test_holiday_is_forecast_as_zero_and_missing_history_days_are_closed():
    # a weekday missing from the history (a past holiday) does not close that weekday for good
    s = series(weeks=5, skip=frozenset({date(2026, 1, 14)}))
    assert date(2026, 1, 14) not in s.days
    holiday = date(2026, 2, 10)  # a Tuesday in the horizon
    calendar = fc.Calendar(closed_dates=frozenset({holiday}))
    result = fc.fit_forecast(s, horizon_days=5, calendar=calendar, model="profile")
    totals = day_totals(result)
    assert holiday in result.days and totals[holiday] == 0
    assert date(2026, 2, 11) in totals and totals[date(2026, 2, 11)] > 0
    open_days = [d for d in result.days if totals.get(d, 0) > 0]
    assert len(open_days) == 5 and all(d.weekday() < 5 for d in open_days)
    assert all(p.lo == p.hi == 0 for p in result.points if p.ts.date() == holiday)


def test_make_up_saturday_is_forecast_like_a_working_day():
    s = series(weeks=5)
    saturday = date(2026, 2, 14)  # 调休: a working Saturday
    calendar = fc.Calendar(extra_working_dates=frozenset({saturday}))
    result = fc.fit_forecast(s, horizon_days=11, calendar=calendar, model="profile", include_closed=False)
    totals = day_totals(result)
    assert saturday in totals and date(2026, 2, 15) not in totals  # Sunday stays closed
    weekdays = [v for d, v in totals.items() if d.weekday() < 5]
    assert min(weekdays) * 0.9 <= totals[saturday] <= max(weekdays) * 1.1
    assert {p.ts.hour for p in result.points if p.ts.date() == saturday} == set(range(8, 20))


def test_event_multiplier_scales_points_in_range_only():
    s = series(weeks=4)
    base = fc.fit_forecast(s, horizon_days=2, model="profile")
    start = datetime(2026, 2, 2, 14, tzinfo=TZ)
    event = fc.EventMultiplier(start=start, end=start + timedelta(hours=10), multiplier=5.0, label="双十一")
    peak = fc.fit_forecast(s, horizon_days=2, model="profile", events=[event])
    assert len(base.points) == len(peak.points)
    for b, p in zip(base.points, peak.points, strict=True):
        factor = 5.0 if start <= b.ts < event.end else 1.0
        assert p.mean == pytest.approx(b.mean * factor)
        assert (p.lo, p.hi) == pytest.approx((b.lo * factor, b.hi * factor))
    assert any(start <= p.ts < event.end for p in peak.points)


@settings(max_examples=5)
@given(seed=st.integers(0, 10_000), level=st.sampled_from([0.5, 0.8, 0.95]), model=st.sampled_from(fc.MODELS))
def test_intervals_contain_the_mean_and_widen_with_the_level(seed, level, model):
    s = series(weeks=4, seed=seed)
    narrow = fc.fit_forecast(s, horizon_days=2, model=model, level=level, folds=2)
    wide = fc.fit_forecast(s, horizon_days=2, model=model, level=min(level + 0.04, 0.99), folds=2)
    assert narrow.points
    for p, q in zip(narrow.points, wide.points, strict=True):
        assert 0 <= p.lo <= p.mean <= p.hi
        assert q.lo <= p.lo + 1e-9 and q.hi >= p.hi - 1e-9


def test_backtest_reports_finite_wape_and_mape_per_day():
    s = series(weeks=6)
    bt = fc.backtest(s, model="profile", folds=3, horizon_days=5)
    assert bt is not None and bt.folds == 3
    assert math.isfinite(bt.wape) and math.isfinite(bt.mape) and 0 < bt.wape < 1
    assert len(bt.per_day) == 15 and all(math.isfinite(d.wape) for d in bt.per_day)
    assert [d.day for d in bt.per_day] == list(s.days[-15:])
    assert fc.backtest(series(weeks=1), model="profile", folds=3, horizon_days=5) is None


def test_profile_beats_seasonal_naive_on_held_out_days():
    rows = synthetic(weeks=9, interval=30, seed=5, scale=100)
    s = fc.to_series(rows, interval_minutes=30, tz=TZ)
    cut = len(s.days) - 5
    train = fc.Series(interval_minutes=30, tz=TZ, days=s.days[:cut], counts=s.counts[:cut], observed=s.observed[:cut])
    actual = {
        s.slot_start(d, slot): s.counts[i, slot] for i, d in enumerate(s.days[cut:], start=cut) for slot in range(48)
    }
    scores = {}
    for model in ("profile", "snaive"):
        result = fc.fit_forecast(train, horizon_days=5, model=model, include_closed=False)
        assert [p.ts.date() for p in result.points][::24] == list(s.days[cut:])
        scores[model] = fc.wape([actual[p.ts] for p in result.points], [p.mean for p in result.points])
    assert scores["profile"] < 0.85 * scores["snaive"], scores  # Poisson noise alone puts the ratio near 0.71


def test_auto_compares_every_model_on_the_training_history():
    result = fc.fit_forecast(series(weeks=5), horizon_days=1)
    assert set(result.candidates) == set(fc.MODELS)
    assert result.model == min(result.candidates, key=result.candidates.__getitem__)
    assert result.backtest is not None and result.backtest.model == result.model


def test_mstl_forecast_is_finite_and_follows_the_daily_shape():
    result = fc.fit_forecast(series(weeks=5), horizon_days=1, model="mstl", folds=1)
    means = [p.mean for p in result.points]
    assert all(math.isfinite(m) and m >= 0 for m in means)
    assert means[2] > means[0]  # 10:00 peak above 08:00


def test_aht_is_count_weighted_shrunk_and_constant_without_history():
    s = series(weeks=2)
    monday_9 = datetime(2026, 1, 12, 9, tzinfo=TZ)
    history = [(monday_9, 600.0, 100), (monday_9 + timedelta(days=1), 200.0, 100), (monday_9, 900.0, 0)]
    result = fc.fit_forecast(s, horizon_days=2, model="profile", aht=history)
    by_ts = {p.ts: p.aht for p in result.points}
    overall = 400.0
    assert by_ts[datetime(2026, 1, 19, 9, tzinfo=TZ)] == pytest.approx((600 * 100 + 30 * overall) / 130)
    assert by_ts[datetime(2026, 1, 19, 12, tzinfo=TZ)] == pytest.approx(overall)
    plain = fc.fit_forecast(s, horizon_days=1, model="profile", default_aht=240.0)
    assert {p.aht for p in plain.points} == {240.0}


def test_intraday_reforecast_moves_the_rest_of_the_day_towards_actuals():
    points = fc.fit_forecast(series(weeks=3), horizon_days=1, model="profile").points
    now = datetime(2026, 1, 26, 13, tzinfo=TZ)
    busy = {p.ts: p.mean * 1.5 for p in points if p.ts < now}
    moved = fc.reforecast_intraday(points, busy, now=now)
    for old, new in zip(points, moved, strict=True):
        if old.ts < now:
            assert new == old
        else:
            assert old.mean < new.mean < old.mean * 1.5
            assert new.lo <= new.mean <= new.hi
    # the same surplus early in the day moves the rest less
    early = datetime(2026, 1, 26, 9, tzinfo=TZ)
    less = fc.reforecast_intraday(points, busy, now=early)
    later = next(p for p in points if p.ts >= now)
    assert next(p for p in less if p.ts == later.ts).mean < next(p for p in moved if p.ts == later.ts).mean
    # bounded, and no change when the day runs as forecast
    wild = fc.reforecast_intraday(points, {ts: v * 100 for ts, v in busy.items()}, now=now)
    assert all(n.mean <= o.mean * 2.0 + 1e-9 for o, n in zip(points, wild, strict=True))
    exact = fc.reforecast_intraday(points, {p.ts: p.mean for p in points if p.ts < now}, now=now)
    assert [p.mean for p in exact] == pytest.approx([p.mean for p in points])


def test_skipped_dst_times_are_not_emitted():
    berlin = ZoneInfo("Europe/Berlin")
    rows = []
    for d in range(21):  # every day, around the clock, up to Saturday 2026-03-28
        day = date(2026, 3, 8) + timedelta(days=d)
        rows += [HistoryRow(ts=datetime(day.year, day.month, day.day, h, tzinfo=berlin), count=5) for h in range(24)]
    s = fc.to_series(rows, interval_minutes=60, tz=berlin)
    result = fc.fit_forecast(s, horizon_days=1, model="snaive")
    assert result.days == [date(2026, 3, 29)]
    assert len(result.points) == 23 and len({p.ts.astimezone(ZoneInfo("UTC")) for p in result.points}) == 23


def test_bad_arguments_are_rejected():
    s = series(weeks=2)
    with pytest.raises(ValueError, match="model"):
        fc.fit_forecast(s, horizon_days=1, model="prophet")
    with pytest.raises(ValueError, match="level"):
        fc.fit_forecast(s, horizon_days=1, level=1.5)
    with pytest.raises(ValueError, match="interval"):
        fc.to_series([], interval_minutes=7, tz=TZ)
