"""Contact volume and AHT forecasts per interval, with a business calendar, event multipliers and backtests.

Three models, chosen per series by rolling-origin backtest WAPE on the training history only:

- ``profile``: the call-centre "day total × intraday profile" model. Daily totals on open days are deseasonalised
  by weekday factors and forecast by statsmodels' exponential smoothing (damped Holt or simple, by AICc); the
  intraday shape per weekday is the share of the day in each slot over recent weeks, lightly smoothed.
- ``mstl``: statsmodels MSTL over the open slots of open days (daily and weekly periods), the deseasonalised series
  forecast by damped Holt; seasonal components repeat their last cycle.
- ``snaive``: seasonal naive, the same slot on the last observed day of the same weekday (the baseline).

Closed days (in the calendar, or missing from the history) are left out of fitting and forecast as zero; a make-up
working day (调休) is forecast like an average regular working day. Prediction intervals come from the backtest
residuals of the chosen model, scaled per point by a negative-binomial standard deviation sqrt(m + c·m²) whose
over-dispersion c is estimated from those residuals; with too little history for a backtest they fall back to a
Poisson–Gamma approximation (c = 0.02) with normal quantiles.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from statistics import NormalDist
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

INTERVALS = (5, 10, 15, 30, 60)
MAKE_UP = -1  # day type of a make-up working day: an average regular working day
MODELS = ("profile", "mstl", "snaive")
DEFAULT_DISPERSION = 0.02
PROFILE_WEEKS = 8
MSTL_MAX_POINTS = 4500  # MSTL is O(n·period); past this it fits on the most recent weeks only


class _Row(Protocol):
    @property
    def ts(self) -> datetime: ...
    @property
    def count(self) -> int: ...
    @property
    def queue(self) -> str: ...


@dataclass(frozen=True)
class Calendar:
    """Plain inputs; the Django layer fills them from `holidays` and the workspace's business hours."""

    closed_dates: frozenset[date] = frozenset()
    extra_working_dates: frozenset[date] = frozenset()  # 调休 make-up days on a normally closed weekday
    open_weekdays: frozenset[int] | None = None  # 0 = Monday; None: inferred from the history


@dataclass(frozen=True)
class EventMultiplier:
    start: datetime  # aware; applies to intervals starting in [start, end)
    end: datetime
    multiplier: float
    label: str = ""


@dataclass(frozen=True)
class Series:
    """Counts per interval of each day present in the history; a day absent from it was closed."""

    interval_minutes: int
    tz: tzinfo
    days: tuple[date, ...]
    counts: Array  # (len(days), slots_per_day)
    observed: npt.NDArray[np.bool_]  # a row was present for that slot (zero counts included)
    queue: str = ""

    @property
    def slots_per_day(self) -> int:
        return 24 * 60 // self.interval_minutes

    def slot_start(self, day: date, slot: int) -> datetime:
        minutes = slot * self.interval_minutes
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)


@dataclass(frozen=True)
class ForecastPoint:
    ts: datetime
    mean: float
    lo: float
    hi: float
    aht: float  # seconds


@dataclass(frozen=True)
class DayError:
    day: date
    actual: float
    forecast: float
    wape: float
    mape: float


@dataclass(frozen=True)
class Backtest:
    model: str
    folds: int
    horizon_days: int
    wape: float  # sum |error| / sum actual, over every open slot of every test day
    mape: float  # mean |error| / actual over slots with actual > 0, in percent
    per_day: list[DayError]
    residuals: Array = field(repr=False)  # actual - forecast, every test slot
    fitted: Array = field(repr=False)  # the forecasts they belong to


@dataclass(frozen=True)
class ForecastResult:
    points: list[ForecastPoint]
    model: str
    backtest: Backtest | None
    candidates: dict[str, float]  # backtest WAPE of every model tried
    days: list[date]  # the forecast days (open ones, and closed ones in between when included)
    level: float
    interval_method: str
    dispersion: float


@dataclass(frozen=True)
class _Day:
    day: date
    kind: int  # weekday 0–6, or MAKE_UP
    step: int  # open days ahead of the origin, 0-based


@dataclass(frozen=True)
class _Fit:
    """The open days the models learn from (rows of `y`), and the calendar facts they need."""

    days: list[date]
    kinds: list[int]
    y: Array  # (len(days), slots_per_day)
    regular: tuple[int, ...]  # open weekdays, ascending
    windows: dict[int, tuple[int, int]]  # day type → open slots [start, end)


# ----------------------------------------------------------------------------------------------- series and calendar


def to_series(rows: Iterable[_Row], *, interval_minutes: int, tz: tzinfo, queue: str | None = None) -> Series:
    """Counts summed per interval start in `tz` (wall clock, so a DST day keeps the usual slots)."""
    if interval_minutes not in INTERVALS:
        raise ValueError(f"interval_minutes must be one of {INTERVALS}")
    per_day = 24 * 60 // interval_minutes
    by_day: dict[date, dict[int, float]] = {}
    for row in rows:
        if queue is not None and row.queue != queue:
            continue
        local = row.ts.astimezone(tz)
        slot = (local.hour * 60 + local.minute) // interval_minutes
        day = by_day.setdefault(local.date(), {})
        day[slot] = day.get(slot, 0.0) + float(row.count)
    days = tuple(sorted(by_day))
    counts = np.zeros((len(days), per_day))
    observed = np.zeros((len(days), per_day), dtype=bool)
    for i, d in enumerate(days):
        for slot, value in by_day[d].items():
            counts[i, slot] = value
            observed[i, slot] = True
    return Series(
        interval_minutes=interval_minutes, tz=tz, days=days, counts=counts, observed=observed, queue=queue or ""
    )


def infer_open_weekdays(days: Sequence[date], *, exclude: Iterable[date] = ()) -> frozenset[int]:
    """A weekday is open when the history has at least half of its occurrences over the span (holidays allowed)."""
    skip = set(exclude)
    kept = [d for d in days if d not in skip]
    if not kept:
        return frozenset()
    first, last = min(kept), max(kept)
    seen = [0] * 7
    for d in kept:
        seen[d.weekday()] += 1
    span = [0] * 7
    d = first
    while d <= last:
        span[d.weekday()] += 1
        d += timedelta(days=1)
    return frozenset(w for w in range(7) if span[w] and seen[w] >= 0.5 * span[w])


def is_open(day: date, calendar: Calendar, open_weekdays: frozenset[int]) -> bool:
    if day in calendar.closed_dates:
        return False
    return day in calendar.extra_working_dates or day.weekday() in open_weekdays


def next_open_days(after: date, count: int, calendar: Calendar, open_weekdays: frozenset[int]) -> list[date]:
    if not open_weekdays and not calendar.extra_working_dates:
        return []
    out: list[date] = []
    day = after
    limit = after + timedelta(days=count * 7 + 400)  # a year of holidays cannot hide every open day
    while len(out) < count and day < limit:
        day += timedelta(days=1)
        if is_open(day, calendar, open_weekdays):
            out.append(day)
    return out


def _kind(day: date, calendar: Calendar, regular: frozenset[int]) -> int:
    if day in calendar.extra_working_dates and day.weekday() not in regular:
        return MAKE_UP
    return day.weekday()


def _windows(
    series: Series, rows: Sequence[int], kinds: Sequence[int], regular: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Open hours per day type: the span of slots with a row on at least a fifth of that type's days."""

    def span(mask: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
        share = mask.mean(axis=0) if len(mask) else np.zeros(series.slots_per_day)
        hit = np.flatnonzero(share >= 0.2)
        return (int(hit[0]), int(hit[-1]) + 1) if len(hit) else None

    observed = series.observed[list(rows)]
    whole = span(observed) or (0, series.slots_per_day)
    out: dict[int, tuple[int, int]] = {}
    kinds_arr = np.asarray(kinds)
    for kind in {*regular, *kinds}:
        mine = observed[kinds_arr == kind]
        out[kind] = (span(mine) or whole) if len(mine) >= 3 else whole
    workdays = [out[k] for k in regular if k < 5] or [out[k] for k in regular] or [whole]
    out[MAKE_UP] = (min(w[0] for w in workdays), max(w[1] for w in workdays))
    return out


def _prepare(series: Series, calendar: Calendar) -> tuple[_Fit, frozenset[int]]:
    regular = calendar.open_weekdays
    if regular is None:
        regular = infer_open_weekdays(series.days, exclude=calendar.extra_working_dates)
    rows = [i for i, d in enumerate(series.days) if is_open(d, calendar, regular)]
    days = [series.days[i] for i in rows]
    kinds = [_kind(d, calendar, regular) for d in days]
    fit = _Fit(
        days=days,
        kinds=kinds,
        y=series.counts[rows],
        regular=tuple(sorted(regular)),
        windows=_windows(series, rows, kinds, sorted(regular)),
    )
    return fit, regular


def _subset(fit: _Fit, stop: int) -> _Fit:
    return _Fit(days=fit.days[:stop], kinds=fit.kinds[:stop], y=fit.y[:stop], regular=fit.regular, windows=fit.windows)


def _mask(fit: _Fit, future: Sequence[_Day], slots: int) -> npt.NDArray[np.bool_]:
    mask = np.zeros((len(future), slots), dtype=bool)
    for i, f in enumerate(future):
        start, end = fit.windows.get(f.kind, fit.windows[MAKE_UP])
        mask[i, start:end] = True
    return mask


# ---------------------------------------------------------------------------------------------------------- models


def _workday_kinds(fit: _Fit) -> list[int]:
    return [k for k in fit.regular if k < 5] or list(fit.regular) or sorted(set(fit.kinds))


def seasonal_naive(fit: _Fit, future: Sequence[_Day]) -> Array:
    """The last observed day of the same weekday, i.e. the last observed week repeated."""
    last: dict[int, Array] = {}
    for kind, row in zip(fit.kinds, fit.y, strict=True):
        last[kind] = row
    out = np.zeros((len(future), fit.y.shape[1]))
    fallback = fit.y[-1]
    for i, f in enumerate(future):
        if f.kind == MAKE_UP:
            rows = [last[k] for k in _workday_kinds(fit) if k in last]
            out[i] = np.mean(rows, axis=0) if rows else fallback
        else:
            out[i] = last.get(f.kind, fallback)
    return out


def _weekday_factors(totals: Array, kinds: Sequence[int], regular: Sequence[int]) -> dict[int, float]:
    """Ratios of each weekday's total to a moving average of the deseasonalised totals, iterated to settle."""
    kinds_arr = np.asarray(kinds)
    types = sorted(set(kinds))
    factors = dict.fromkeys(types, 1.0)
    width = max(len(regular), 1)
    kernel = np.ones(width) / width
    for _ in range(3):
        deseason = totals / np.array([factors[k] for k in kinds])
        if len(deseason) >= width:
            padded = np.concatenate(
                [
                    np.full(width // 2, deseason[:width].mean()),
                    deseason,
                    np.full(width - 1 - width // 2, deseason[-width:].mean()),
                ]
            )
            level = np.convolve(padded, kernel, mode="valid")
        else:
            level = np.full(len(deseason), deseason.mean())
        ratio = totals / np.maximum(level, 1e-9)
        for k in types:
            recent = ratio[kinds_arr == k][-12:]
            factors[k] = float(recent.mean()) if len(recent) else 1.0
        norm = np.mean([factors[k] for k in regular if k in factors] or [1.0])
        factors = {k: v / norm for k, v in factors.items()}
    return factors


def _smooth_level(y: Array, steps: int) -> Array:
    """Damped Holt or simple exponential smoothing (lower AICc) of a short non-seasonal series."""
    if steps <= 0:
        return np.zeros(0)
    if len(y) < 10 or not np.isfinite(y).all() or np.ptp(y) == 0:
        return np.full(steps, float(np.mean(y[-5:])) if len(y) else 0.0)
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # type: ignore[import-untyped]

    best: tuple[float, Array] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for trend in ("add", None):
            try:
                model = ExponentialSmoothing(
                    y, trend=trend, damped_trend=trend is not None, initialization_method="estimated"
                )
                res = model.fit()
            except (ValueError, np.linalg.LinAlgError):
                continue
            score = float(res.aicc)
            path = np.asarray(res.forecast(steps), dtype=float)
            if np.isfinite(path).all() and (best is None or score < best[0]):
                best = (score, path)
    if best is None:
        return np.full(steps, float(np.mean(y[-5:])))
    return best[1]


def _profiles(fit: _Fit, weeks: int) -> dict[int, Array]:
    """Share of the day per slot for each day type, from its last `weeks` days.

    Each slot is pulled towards its neighbours' mean by v / (v + d²), v the Poisson variance of the share and d its
    distance from the neighbours: noisy 5-minute shares are smoothed, well-measured peaks are kept.
    """
    kinds_arr = np.asarray(fit.kinds)
    totals_all = fit.y.sum(axis=0)
    pooled = totals_all / max(totals_all.sum(), 1e-9)
    out: dict[int, Array] = {}
    for kind in {*fit.kinds, *fit.regular}:
        rows = fit.y[kinds_arr == kind][-weeks:]
        volume = float(rows.sum()) if len(rows) else 0.0
        if volume <= 0:
            out[kind] = pooled
            continue
        share = rows.sum(axis=0) / volume
        neighbours = np.convolve(np.concatenate([share[:1], share, share[-1:]]), [0.5, 0.0, 0.5], mode="valid")
        variance = share / volume
        weight = variance / np.maximum(variance + (share - neighbours) ** 2, 1e-300)
        smoothed = (1 - weight) * share + weight * neighbours
        smoothed[share == 0] = 0.0  # keep closed slots closed
        out[kind] = smoothed / max(smoothed.sum(), 1e-9)
    work = [out[k] for k in _workday_kinds(fit) if k in out]
    out[MAKE_UP] = np.mean(work, axis=0) if work else pooled
    return out


LEVEL_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def _level_path(y: Array, steps: int, horizon: int) -> Array:
    """Simple exponential smoothing (ETS(A,N,N)) of deseasonalised day totals, its α chosen for `horizon`.

    Maximum likelihood picks α for one step ahead and then chases day-to-day noise; a staffing forecast is read
    days ahead, so α minimises the mean absolute error of 1…`horizon`-day forecasts over the last 30 origins.
    """
    if steps <= 0:
        return np.zeros(0)
    n = len(y)
    if n < 8:
        return np.full(steps, float(np.mean(y)) if n else 0.0)
    best = (math.inf, LEVEL_ALPHAS[0])
    for alpha in LEVEL_ALPHAS:
        levels = np.empty(n)
        level = float(np.mean(y[: min(5, n)]))
        for t in range(n):
            levels[t] = level  # the forecast made before seeing y[t]
            level += alpha * (float(y[t]) - level)
        errors = [
            abs(float(y[t + j]) - levels[t]) for t in range(max(5, n - 30), n) for j in range(min(horizon, n - t))
        ]
        score = float(np.mean(errors)) if errors else math.inf
        if score < best[0]:
            best = (score, alpha)
    level = float(np.mean(y[: min(5, n)]))
    for value in y:
        level += best[1] * (float(value) - level)
    return np.full(steps, level)


def profile_model(fit: _Fit, future: Sequence[_Day], weeks: int = PROFILE_WEEKS) -> Array:
    totals = fit.y.sum(axis=1)
    factors = _weekday_factors(totals, fit.kinds, fit.regular)
    work = [factors[k] for k in _workday_kinds(fit) if k in factors]
    factors[MAKE_UP] = float(np.mean(work)) if work else 1.0
    deseason = totals / np.array([factors[k] for k in fit.kinds])
    steps = max((f.step for f in future), default=-1) + 1
    level = np.maximum(_level_path(deseason, steps, max(steps, len(fit.regular))), 0.0)
    shapes = _profiles(fit, weeks)
    out = np.zeros((len(future), fit.y.shape[1]))
    for i, f in enumerate(future):
        out[i] = level[f.step] * factors.get(f.kind, 1.0) * shapes.get(f.kind, shapes[MAKE_UP])
    return out


def mstl_model(fit: _Fit, future: Sequence[_Day]) -> Array:
    """MSTL on a regular grid of open weekdays; a holiday inside it is filled with its weekday's mean day."""
    from statsmodels.tsa.seasonal import MSTL  # type: ignore[import-untyped]

    start = min(w[0] for k, w in fit.windows.items() if k != MAKE_UP)
    end = max(w[1] for k, w in fit.windows.items() if k != MAKE_UP)
    width = end - start
    regular = list(fit.regular)
    by_day = {d: row for d, k, row in zip(fit.days, fit.kinds, fit.y, strict=True) if k != MAKE_UP}
    if not by_day or not regular:
        return profile_model(fit, future)
    grid: list[date] = []
    d = min(by_day)
    while d <= max(by_day):
        if d.weekday() in regular:
            grid.append(d)
        d += timedelta(days=1)
    per_week = len(regular)
    keep_days = max(MSTL_MAX_POINTS // max(width, 1), 2 * per_week)
    keep_days = (keep_days // per_week) * per_week or per_week
    grid = grid[-keep_days:]
    means = {
        k: np.mean([row for day, row in by_day.items() if day.weekday() == k], axis=0)
        for k in regular
        if any(day.weekday() == k for day in by_day)
    }
    fallback = np.mean(list(by_day.values()), axis=0)
    matrix = np.array([by_day.get(day, means.get(day.weekday(), fallback))[start:end] for day in grid])
    z = matrix.ravel()
    periods = [width] if len(grid) < 2 * per_week or per_week < 2 else [width, width * per_week]
    if len(z) < 2 * max(periods) + 1 or width < 2:
        return profile_model(fit, future)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = MSTL(z, periods=periods, iterate=1).fit()
    seasonal = np.asarray(res.seasonal, dtype=float).reshape(len(z), -1)
    deseason = z - seasonal.sum(axis=1)
    steps = max((f.step for f in future), default=-1) + 1
    level = _smooth_level(deseason, steps * width)
    daily = seasonal[-width:, 0]
    weekly: dict[int, Array] = {}
    if seasonal.shape[1] > 1:
        last_week = seasonal[-width * per_week :, 1].reshape(per_week, width)
        for j, day in enumerate(grid[-per_week:]):
            weekly[day.weekday()] = last_week[j]
    work = [weekly[k] for k in _workday_kinds(fit) if k in weekly]
    weekly[MAKE_UP] = np.mean(work, axis=0) if work else np.zeros(width)
    out = np.zeros((len(future), fit.y.shape[1]))
    for i, f in enumerate(future):
        path = level[f.step * width : (f.step + 1) * width]
        out[i, start:end] = np.maximum(path + daily + weekly.get(f.kind, weekly[MAKE_UP]), 0.0)
    return out


def _predict(model: str, fit: _Fit, future: Sequence[_Day]) -> Array:
    if model == "profile":
        return profile_model(fit, future)
    if model == "mstl":
        return mstl_model(fit, future)
    if model == "snaive":
        return seasonal_naive(fit, future)
    raise ValueError(f"unknown model {model!r}; choose one of {MODELS} or 'auto'")


# -------------------------------------------------------------------------------------------------------- backtest


def _min_train(fit: _Fit) -> int:
    return max(2 * len(fit.regular), 6)


def _backtest_fit(fit: _Fit, *, model: str, folds: int, horizon_days: int) -> Backtest | None:
    """Rolling origin over the last `folds × horizon_days` open days, each fold trained on everything before it."""
    n = len(fit.days)
    residuals: list[Array] = []
    fitted: list[Array] = []
    per_day: list[DayError] = []
    used = 0
    for i in range(folds):
        cut = n - (folds - i) * horizon_days
        if cut < _min_train(fit):
            continue
        train = _subset(fit, cut)
        test_days = fit.days[cut : cut + horizon_days]
        future = [
            _Day(day=d, kind=k, step=j)
            for j, (d, k) in enumerate(zip(test_days, fit.kinds[cut : cut + horizon_days], strict=True))
        ]
        pred = _predict(model, train, future)
        mask = _mask(fit, future, fit.y.shape[1])
        actual = fit.y[cut : cut + horizon_days]
        for j, f in enumerate(future):
            a, p = actual[j][mask[j]], pred[j][mask[j]]
            per_day.append(
                DayError(day=f.day, actual=float(a.sum()), forecast=float(p.sum()), wape=_wape(a, p), mape=_mape(a, p))
            )
        residuals.append((actual - pred)[mask])
        fitted.append(pred[mask])
        used += 1
    if not used:
        return None
    res, fit_values = np.concatenate(residuals), np.concatenate(fitted)
    actual_all = res + fit_values
    return Backtest(
        model=model,
        folds=used,
        horizon_days=horizon_days,
        wape=_wape(actual_all, fit_values),
        mape=_mape(actual_all, fit_values),
        per_day=per_day,
        residuals=res,
        fitted=fit_values,
    )


def backtest(
    series: Series, *, model: str, folds: int = 3, horizon_days: int = 5, calendar: Calendar | None = None
) -> Backtest | None:
    """None when the history is too short for even one fold."""
    fit, _ = _prepare(series, calendar or Calendar())
    if not fit.days:
        return None
    return _backtest_fit(fit, model=model, folds=folds, horizon_days=horizon_days)


def _wape(actual: Array, forecast: Array) -> float:
    total = float(np.abs(actual).sum())
    return float(np.abs(actual - forecast).sum()) / total if total > 0 else math.nan


def _mape(actual: Array, forecast: Array) -> float:
    pos = actual > 0
    return float(np.mean(np.abs(actual[pos] - forecast[pos]) / actual[pos]) * 100) if pos.any() else math.nan


def wape(actual: Sequence[float] | Array, forecast: Sequence[float] | Array) -> float:
    return _wape(np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float))


def mape(actual: Sequence[float] | Array, forecast: Sequence[float] | Array) -> float:
    return _mape(np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float))


# ------------------------------------------------------------------------------------------------ intervals and AHT


def _dispersion(bt: Backtest | None) -> float:
    """Over-dispersion c of Var = m + c·m², by moments of the backtest residuals."""
    if bt is None or len(bt.fitted) < 20:
        return DEFAULT_DISPERSION
    m = np.maximum(bt.fitted, 0.0)
    excess = float(np.sum(bt.residuals**2 - m))
    return max(excess / max(float(np.sum(m**2)), 1e-9), 0.0)


def _quantiles(bt: Backtest | None, c: float, level: float) -> tuple[float, float, str]:
    if bt is None or len(bt.fitted) < 50:
        z = NormalDist().inv_cdf(0.5 + level / 2)
        return -z, z, f"Poisson–Gamma (over-dispersion c={c:.4f}), normal quantiles"
    m = np.maximum(bt.fitted, 0.0)
    scaled = bt.residuals / np.sqrt(np.maximum(m + c * m**2, 1e-9))
    lo, hi = np.quantile(scaled, [0.5 - level / 2, 0.5 + level / 2])
    return float(lo), float(hi), f"backtest residual quantiles scaled by sqrt(m + {c:.4f}·m²)"


def aht_table(
    aht: Sequence[tuple[datetime, float, int]],
    *,
    interval_minutes: int,
    tz: tzinfo,
    default: float = 300.0,
    shrink: float = 30.0,
) -> tuple[dict[tuple[int, int], float], float]:
    """Count-weighted AHT per (weekday, slot), shrunk towards the overall mean by `shrink` pseudo-contacts."""
    sums: dict[tuple[int, int], list[float]] = {}
    total_seconds = total_count = 0.0
    for ts, seconds, count in aht:
        if count <= 0 or not math.isfinite(seconds) or seconds < 0:
            continue
        local = ts.astimezone(tz)
        key = (local.weekday(), (local.hour * 60 + local.minute) // interval_minutes)
        acc = sums.setdefault(key, [0.0, 0.0])
        acc[0] += seconds * count
        acc[1] += count
        total_seconds += seconds * count
        total_count += count
    if total_count == 0:
        return {}, default
    overall = total_seconds / total_count
    table = {key: (s + shrink * overall) / (n + shrink) for key, (s, n) in sums.items()}
    return table, overall


# ------------------------------------------------------------------------------------------------------- forecast


def fit_forecast(
    series: Series,
    *,
    horizon_days: int,
    calendar: Calendar | None = None,
    events: Sequence[EventMultiplier] = (),
    aht: Sequence[tuple[datetime, float, int]] = (),
    model: str = "auto",
    level: float = 0.8,
    folds: int = 3,
    backtest_days: int | None = None,
    include_closed: bool = True,
    default_aht: float = 300.0,
) -> ForecastResult:
    """Forecast the next `horizon_days` open days after the last history day, one point per open slot.

    With `include_closed`, closed days between them appear with zero points over the usual open hours. `model`
    "auto" backtests every model on the history and keeps the lowest WAPE.
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    calendar = calendar or Calendar()
    fit, regular = _prepare(series, calendar)
    if not fit.days:
        raise ValueError("no open day in the history")
    horizon = backtest_days or max(len(fit.regular), 1)
    candidates: dict[str, float] = {}
    tests: dict[str, Backtest] = {}
    names = MODELS if model == "auto" else (model,)
    if model != "auto" and model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {MODELS} or 'auto'")
    for name in names:
        bt = _backtest_fit(fit, model=name, folds=folds, horizon_days=horizon)
        if bt is not None and math.isfinite(bt.wape):
            candidates[name], tests[name] = bt.wape, bt
    chosen = model
    if model == "auto":
        chosen = min(candidates, key=lambda k: candidates[k]) if candidates else "profile"
    bt_chosen = tests.get(chosen)
    c = _dispersion(bt_chosen)
    q_lo, q_hi, method = _quantiles(bt_chosen, c, level)

    open_days = next_open_days(series.days[-1], horizon_days, calendar, regular)
    future = [_Day(day=d, kind=_kind(d, calendar, regular), step=j) for j, d in enumerate(open_days)]
    pred = _predict(chosen, fit, future) if future else np.zeros((0, series.slots_per_day))
    mask = _mask(fit, future, series.slots_per_day)
    table, overall_aht = aht_table(aht, interval_minutes=series.interval_minutes, tz=series.tz, default=default_aht)

    points: list[ForecastPoint] = []
    days: list[date] = []
    all_days = _with_closed(open_days) if include_closed else open_days
    index = {d: i for i, d in enumerate(open_days)}
    zero_window = fit.windows[MAKE_UP]
    for day in all_days:
        days.append(day)
        i = index.get(day)
        slots = np.flatnonzero(mask[i]) if i is not None else np.arange(*zero_window)
        for slot in slots:
            ts = series.slot_start(day, int(slot))
            if _nonexistent(ts):
                continue
            m = float(max(pred[i, slot], 0.0)) if i is not None else 0.0
            sd = math.sqrt(m + c * m * m)
            key = (day.weekday() if i is None or future[i].kind != MAKE_UP else 0, int(slot))
            points.append(
                ForecastPoint(
                    ts=ts,
                    mean=m,
                    lo=max(m + q_lo * sd, 0.0),
                    hi=max(m + q_hi * sd, 0.0),
                    aht=table.get(key, overall_aht),
                )
            )
    points = apply_events(points, events)
    return ForecastResult(
        points=points,
        model=chosen,
        backtest=bt_chosen,
        candidates=candidates,
        days=days,
        level=level,
        interval_method=method,
        dispersion=c,
    )


def _with_closed(open_days: Sequence[date]) -> list[date]:
    if not open_days:
        return []
    out, day = [], open_days[0]
    while day <= open_days[-1]:
        out.append(day)
        day += timedelta(days=1)
    return out


def _nonexistent(ts: datetime) -> bool:
    """A wall-clock time skipped by a DST change does not round-trip through UTC."""
    back = ts.astimezone(UTC).astimezone(ts.tzinfo)
    return back.replace(tzinfo=None) != ts.replace(tzinfo=None)


def apply_events(points: Sequence[ForecastPoint], events: Sequence[EventMultiplier]) -> list[ForecastPoint]:
    """Multipliers compound when events overlap; they scale the mean and both interval bounds."""
    out = []
    for p in points:
        factor = 1.0
        for e in events:
            if e.start <= p.ts < e.end:
                factor *= e.multiplier
        out.append(
            p
            if factor == 1.0
            else ForecastPoint(ts=p.ts, mean=p.mean * factor, lo=p.lo * factor, hi=p.hi * factor, aht=p.aht)
        )
    return out


def reforecast_intraday(
    points: Sequence[ForecastPoint],
    actual: Mapping[datetime, float],
    *,
    now: datetime,
    interval_minutes: int | None = None,
    stiffness: float = 0.15,
    bounds: tuple[float, float] = (0.5, 2.0),
) -> list[ForecastPoint]:
    """Scale the rest of `now`'s day by actual/forecast so far, shrunk towards 1 while little of the day has passed.

    The weight is s / (s + stiffness) with s the share of the day's forecast volume already elapsed, so one busy
    early interval barely moves the day while a busy morning does; the ratio is clamped to `bounds`.
    """
    if not points:
        return []
    if interval_minutes is None:
        stamps = sorted({p.ts for p in points})
        gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(stamps) if b > a]
        interval_minutes = int(min(gaps)) if gaps else 60
    step = timedelta(minutes=interval_minutes)
    today = now.astimezone(points[0].ts.tzinfo).date()
    mine = [p for p in points if p.ts.astimezone(points[0].ts.tzinfo).date() == today]
    done = [p for p in mine if p.ts + step <= now]
    day_total = sum(p.mean for p in mine)
    expected = sum(p.mean for p in done)
    if not done or expected <= 0 or day_total <= 0:
        return list(points)
    seen = sum(float(actual.get(p.ts, 0.0)) for p in done)
    share = expected / day_total
    weight = share / (share + stiffness)
    ratio = min(max(seen / expected, bounds[0]), bounds[1])
    factor = 1.0 + weight * (ratio - 1.0)
    done_at = {p.ts for p in done}
    out = []
    for p in points:
        if p.ts in done_at or p.ts.astimezone(points[0].ts.tzinfo).date() != today:
            out.append(p)
        else:
            out.append(ForecastPoint(ts=p.ts, mean=p.mean * factor, lo=p.lo * factor, hi=p.hi * factor, aht=p.aht))
    return out
