"""The workspace's clock: local days in its time zone (rosters cover whole local days; DST-safe)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from pivotdesk.accounts.models import Workspace


@lru_cache(maxsize=256)
def _zone_named(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def zone_of(workspace: Workspace) -> zoneinfo.ZoneInfo:
    return _zone_named(workspace.time_zone or "Asia/Shanghai")


def zone(workspace_id: int) -> zoneinfo.ZoneInfo:
    name = Workspace.objects.filter(pk=workspace_id).values_list("time_zone", flat=True).first()
    return _zone_named(name or "Asia/Shanghai")


def local_date(workspace_id: int, at: dt.datetime) -> dt.date:
    return at.astimezone(zone(workspace_id)).date()


def local_start(day: dt.date, tz: zoneinfo.ZoneInfo, minute: int = 0) -> dt.datetime:
    """The aware instant of `minute` minutes after local midnight of `day` as the wall clock reads (a wall time in
    a DST gap moves forward, as zoneinfo resolves it; fold=0 picks the first of a repeated hour)."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(dt.UTC).astimezone(tz)


def day_bounds(day: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of day, local midnight of the next day) — 23 or 25 hours on DST change days."""
    return (
        dt.datetime.combine(day, dt.time(), tzinfo=tz),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz),
    )
