"""Forecast benchmark (`pivotdesk.workforce.domain.forecast`): WAPE against seasonal naive on bank call data.

Issue 14: on `../shared/data/forecasting/bank_calls_5min_train.csv` (a North American bank, weekdays 07:00–21:00
in 5-minute slots; the stamps are local wall-clock times written with a `Z`), train on all but the last 10 working
days and test on those, at 5- and 30-minute intervals. The baseline is seasonal naive as known at the forecast
origin: the last observed week repeated. Target: ≥ 30 % lower WAPE than the baseline. The model is chosen by
rolling-origin backtest on the training days only; the test days are never looked at before scoring.

`python -m bench.workforce_forecast [--quick]` runs it (quick: the 30-minute interval only).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from bench import machine
from pivotdesk.workforce.domain import forecast as fc
from pivotdesk.workforce.domain.history import parse_history_csv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "forecasting" / "bank_calls_5min_train.csv"
TEST_DAYS = 10
TARGET_REDUCTION = 0.30


def _split(series: fc.Series, test_days: int) -> tuple[fc.Series, fc.Series]:
    def part(sl: slice) -> fc.Series:
        return fc.Series(
            interval_minutes=series.interval_minutes,
            tz=series.tz,
            days=series.days[sl],
            counts=series.counts[sl],
            observed=series.observed[sl],
        )

    return part(slice(None, -test_days)), part(slice(-test_days, None))


def _score(test: fc.Series, result: fc.ForecastResult) -> dict[str, Any]:
    by_ts = {p.ts: p for p in result.points}
    actual: list[float] = []
    mean: list[float] = []
    inside = 0
    per_day = []
    for i, day in enumerate(test.days):
        a_day, f_day = [], []
        for slot in np.flatnonzero(test.observed[i]):
            p = by_ts.get(test.slot_start(day, int(slot)))
            value = float(test.counts[i, slot])
            forecast = p.mean if p is not None else 0.0
            a_day.append(value)
            f_day.append(forecast)
            inside += p is not None and p.lo <= value <= p.hi
        actual += a_day
        mean += f_day
        per_day.append(
            {"day": day.isoformat(), "wape": round(fc.wape(a_day, f_day), 4), "mape": round(fc.mape(a_day, f_day), 2)}
        )
    return {
        "wape": round(fc.wape(actual, mean), 4),
        "mape": round(fc.mape(actual, mean), 2),
        "coverage": round(inside / max(len(actual), 1), 3),
        "per_day": per_day,
        "forecast_days": [d.isoformat() for d in result.days],
    }


def _one(rows: list[Any], interval: int) -> dict[str, Any]:
    series = fc.to_series(rows, interval_minutes=interval, tz=UTC)
    train, test = _split(series, TEST_DAYS)
    calendar = fc.Calendar()
    started = time.perf_counter()
    ours = fc.fit_forecast(train, horizon_days=TEST_DAYS, calendar=calendar, include_closed=False)
    fit_s = time.perf_counter() - started
    naive = fc.fit_forecast(train, horizon_days=TEST_DAYS, calendar=calendar, include_closed=False, model="snaive")
    mine, base = _score(test, ours), _score(test, naive)
    assert mine["forecast_days"] == [d.isoformat() for d in test.days], "forecast days differ from the test days"
    ratio = mine["wape"] / base["wape"]
    return {
        "interval_minutes": interval,
        "train_days": len(train.days),
        "test_days": [d.isoformat() for d in test.days],
        "chosen_model": ours.model,
        "backtest_wape_by_model": {k: round(v, 4) for k, v in ours.candidates.items()},
        "fit_seconds": round(fit_s, 2),
        "interval_method": ours.interval_method,
        "model": {k: v for k, v in mine.items() if k != "forecast_days"},
        "seasonal_naive": {k: v for k, v in base.items() if k != "forecast_days"},
        "wape_ratio": round(ratio, 3),
        "reduction": round(1 - ratio, 3),
        "target_met": 1 - ratio >= TARGET_REDUCTION,
    }


def run(quick: bool = False) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": machine.describe(None),
        "data": str(DATA),
        "target_reduction": TARGET_REDUCTION,
    }
    if not DATA.exists():
        report["skipped"] = f"{DATA} is absent"
        return report
    parsed = parse_history_csv(DATA.read_bytes(), tz=UTC)
    if parsed.errors:
        report["skipped"] = f"{len(parsed.errors)} bad rows, first: {parsed.errors[0]}"
        return report
    report["results"] = [_one(parsed.rows, interval) for interval in ((30,) if quick else (5, 30))]
    return report


def main() -> None:
    print_report(run(quick="--quick" in sys.argv[1:]))


def print_report(report: dict[str, Any]) -> None:
    print("== workforce forecast: bank_calls, last 10 working days held out ==")
    print(f"machine: {report['machine']}")
    if "skipped" in report:
        print(f"skipped: {report['skipped']}")
        return
    for r in report["results"]:
        m, b = r["model"], r["seasonal_naive"]
        print(f"\n-- {r['interval_minutes']}-minute intervals, trained on {r['train_days']} open days --")
        print(
            f"chosen by backtest on training only: {r['chosen_model']}  (backtest WAPE {r['backtest_wape_by_model']})"
        )
        print(f"fit + selection time: {r['fit_seconds']} s")
        print(f"{'':16}{'WAPE':>8}{'MAPE %':>9}{'80% PI cover':>14}")
        print(f"{'model':16}{m['wape']:>8.4f}{m['mape']:>9.2f}{m['coverage']:>14.3f}")
        print(f"{'seasonal naive':16}{b['wape']:>8.4f}{b['mape']:>9.2f}{b['coverage']:>14.3f}")
        verdict = "met" if r["target_met"] else "NOT met"
        print(f"WAPE ratio model/naive {r['wape_ratio']} → {r['reduction']:.1%} lower (target ≥ 30 %: {verdict})")
        print(f"intervals: {r['interval_method']}")
        print("per day       model WAPE  MAPE%   naive WAPE  MAPE%")
        for dm, db in zip(m["per_day"], b["per_day"], strict=True):
            print(f"{dm['day']}  {dm['wape']:>10.4f} {dm['mape']:>6.2f} {db['wape']:>12.4f} {db['mape']:>6.2f}")


if __name__ == "__main__":
    main()
