"""Human input of the SLA settings and back: hours ("09:00-12:00, 13:00-18:00"), dates, durations ("2h",
"30 分钟"), warnings ("75%, 15m")."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pivotdesk.common.calendars.hours import HoursError, parse_ranges

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~到至]\s*(\d{1,2}):(\d{2})\s*$")


# --- parsing human input -----------------------------------------------------------------------------------------


def parse_hours_text(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-18:00" → [["09:00","12:00"], ["13:00","18:00"]]; empty → closed. Raises ValidationError."""
    pairs: list[list[str]] = []
    for part in re.split(r"[,，;；\n]", text or ""):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            raise ValidationError(
                _("“%(part)s” is not a range like 09:00-18:00.") % {"part": part.strip()}, code="range"
            )
        h1, m1, h2, m2 = m.groups()
        pairs.append([f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"])
    try:
        parse_ranges(pairs, "hours")
    except HoursError as exc:
        reason = next(iter(exc.errors.values()))
        if "overlap" in reason:
            raise ValidationError(_("The ranges overlap."), code="overlap") from exc
        if "before it starts" in reason:
            raise ValidationError(_("A range ends before it starts."), code="order") from exc
        raise ValidationError(_("Times are between 00:00 and 24:00."), code="clock") from exc
    return sorted(pairs)


def hours_text(ranges: list[list[str]] | None) -> str:
    """[["09:00","12:00"], …] → "09:00-12:00, …"."""
    return ", ".join(f"{a}-{b}" for a, b in ranges or [])


def parse_dates_text(text: str) -> list[str]:
    """One date per line (or separated by commas) → sorted ISO dates."""
    out: set[str] = set()
    for part in re.split(r"[\s,，;；]+", text or ""):
        if not part:
            continue
        try:
            out.add(dt.date.fromisoformat(part).isoformat())
        except ValueError as exc:
            raise ValidationError(_("“%(part)s” is not a date like 2026-10-10.") % {"part": part}) from exc
    return sorted(out)


def parse_working_dates_text(text: str) -> dict[str, list[list[str]]]:
    """Lines "2026-02-14" (normal hours) or "2026-02-14 09:00-12:00" → {date: ranges}."""
    out: dict[str, list[list[str]]] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        day, _sep, rest = line.partition(" ")
        try:
            key = dt.date.fromisoformat(day).isoformat()
        except ValueError as exc:
            raise ValidationError(_("“%(part)s” is not a date like 2026-10-10.") % {"part": day}) from exc
        out[key] = parse_hours_text(rest)
    return dict(sorted(out.items()))


def working_dates_text(value: dict[str, list[list[str]]] | None) -> str:
    return "\n".join(f"{day} {hours_text(r)}".strip() for day, r in sorted((value or {}).items()))


_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|分钟?|h|hr|hrs|hours?|小时|d|days?|天)?\s*$", re.I)


def parse_minutes(text: str) -> int | None:
    """ "30", "30m", "2h", "1.5 h", "2 小时", "1d" (24 h) → minutes; empty → None (no target)."""
    if not (text or "").strip():
        return None
    m = _AMOUNT.match(text)
    if not m:
        raise ValidationError(_("“%(v)s” is not a duration like 30m, 2h or 1d.") % {"v": text.strip()})
    number, unit = float(m.group(1)), (m.group(2) or "m").lower()
    factor = 1440 if unit[0] in "d天" else 60 if unit[0] in "h小" else 1
    minutes = round(number * factor)
    if minutes <= 0:
        raise ValidationError(_("A target must be at least one minute."))
    if minutes > 366 * 1440:
        raise ValidationError(_("A target must be at most a year."))
    return minutes


def minutes_text(minutes: int | None) -> str:
    """90 → "90m"; 120 → "2h"; 2880 → "2d"."""
    if not minutes:
        return ""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def parse_warnings(text: str) -> tuple[list[int], list[int]]:
    """ "75%, 90%, 15m" → ([75, 90], [15]): percent of the target elapsed, and minutes before the deadline."""
    percents: set[int] = set()
    before: set[int] = set()
    for part in re.split(r"[,，;；\s]+", text or ""):
        if not part:
            continue
        if part.endswith("%"):
            try:
                value = int(part[:-1])
            except ValueError as exc:
                raise ValidationError(_("“%(v)s” is not a percentage.") % {"v": part}) from exc
            if not 1 <= value <= 99:
                raise ValidationError(_("Warning percentages are between 1% and 99%."))
            percents.add(value)
        else:
            minutes = parse_minutes(part)
            if minutes is not None:
                before.add(minutes)
    return sorted(percents), sorted(before)


def warnings_text(percents: list[int], before: list[int]) -> str:
    return ", ".join([f"{p}%" for p in percents or []] + [minutes_text(m) for m in before or []])


# --- business calendars ------------------------------------------------------------------------------------------
