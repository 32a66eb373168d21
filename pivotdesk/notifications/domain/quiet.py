"""Quiet hours: a daily window in the agent's local time, possibly crossing midnight (22:00–07:00).

Pure: works on aware datetimes and `datetime.time` values; the caller converts to the agent's time zone.
"""

from __future__ import annotations

import datetime as dt


def in_window(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether a local wall-clock time falls in [start, end). start == end is an empty window (never quiet)."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(at: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime | None:
    """The instant quiet hours end when `at` (aware, in the agent's zone) is inside them; None when it is not.

    The result is the next `end` wall-clock time after `at`, in the same zone. Across a DST gap the wall time is
    normalised through UTC, so the returned instant is always after `at`.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    local = at.time().replace(tzinfo=None)
    if not in_window(local, start, end):
        return None
    day = at.date()
    if start > end and local >= start:
        day += dt.timedelta(days=1)
    # Wall-clock settings carry no fold: a `fold=1` end inside a DST gap would map to an instant *before* the gap.
    naive_end = dt.datetime.combine(day, end.replace(fold=0))
    candidate = naive_end.replace(tzinfo=at.tzinfo)
    # Round-trip through UTC to land on a real instant (a wall time inside a DST gap moves forward).
    candidate = candidate.astimezone(dt.UTC).astimezone(at.tzinfo)
    if candidate <= at:
        candidate = at + dt.timedelta(minutes=1)
    return candidate
