"""Timing and summary statistics shared by the benchmarks (pure Python; the peer harness imports it too)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile by linear interpolation (p99 of few samples is close to the maximum)."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else None,
        "min_ms": round(min(ms), 3) if ms else None,
        "max_ms": round(max(ms), 3) if ms else None,
    }


def throughput_summary(rates: list[float], per_run: int) -> dict[str, Any]:
    return {
        "runs": [round(r, 1) for r in rates],
        "per_run": per_run,
        "median": round(statistics.median(rates), 1) if rates else None,
    }


def time_requests(call: Callable[[], Any], *, warmup: int, n: int, budget_s: float, min_n: int = 3) -> list[float]:
    """Call `warmup` times untimed, then up to `n` timed calls; stop early once `budget_s` is spent (at least
    `min_n` calls, so a slow system is still measured, with fewer samples: its p99 is then near its maximum)."""
    warm_started = time.perf_counter()
    for _ in range(warmup):  # a slow system gets fewer warm-up calls: at most a quarter of the budget
        call()
        if time.perf_counter() - warm_started > budget_s / 4:
            break
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < n:
        t0 = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= min_n and time.perf_counter() - started > budget_s:
            break
    return samples


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")
