"""Schedule adherence: how much of the scheduled working time an agent was actually available, and where not.

Pure interval arithmetic on (start, end) pairs of any ordered type (datetimes in the app, numbers in tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def merge(spans: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Sorted, non-overlapping union of half-open spans (empty ones dropped)."""
    out: list[tuple[Any, Any]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(spans: Sequence[tuple[Any, Any]], holes: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """`spans` minus `holes` (both merged first)."""
    result: list[tuple[Any, Any]] = []
    holes = merge(holes)
    for start, end in merge(spans):
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect(a: Sequence[tuple[Any, Any]], b: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The overlap of two sets of spans."""
    a, b = merge(a), merge(b)
    out: list[tuple[Any, Any]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


@dataclass(frozen=True)
class Adherence:
    """Seconds scheduled to work, seconds of that spent available, the share, and the spans out of adherence
    (scheduled but not available; available outside the schedule is reported apart, as it is not a breach)."""

    scheduled: float
    adhered: float
    out_of_adherence: list[tuple[Any, Any]]
    unscheduled_available: float

    @property
    def percent(self) -> float | None:
        return None if self.scheduled <= 0 else round(100.0 * self.adhered / self.scheduled, 1)


def _seconds(spans: Iterable[tuple[Any, Any]]) -> float:
    total = 0.0
    for start, end in spans:
        delta = end - start
        total += delta.total_seconds() if hasattr(delta, "total_seconds") else float(delta)
    return total


def adherence(
    *,
    scheduled: Sequence[tuple[Any, Any]],
    breaks: Sequence[tuple[Any, Any]],
    available: Sequence[tuple[Any, Any]],
    window: tuple[Any, Any],
) -> Adherence:
    """Adherence inside `window` (e.g. a day, or the day so far): working time = shifts minus breaks."""
    work = intersect(subtract(scheduled, breaks), [window])
    avail = intersect(available, [window])
    adhered = intersect(work, avail)
    return Adherence(
        scheduled=_seconds(work),
        adhered=_seconds(adhered),
        out_of_adherence=subtract(work, avail),
        unscheduled_available=_seconds(subtract(avail, merge(scheduled))),
    )
