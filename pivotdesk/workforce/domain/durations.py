"""Durations agents type when they log time on a ticket (pure, no Django).

`parse_duration` reads "15m", "1h 30m", "1h30", "1:30", "1.5h", "90" (minutes), "45s", "2 小时", "1小时30分钟",
"半小时", full-width digits and colons too; `format_duration` writes the compact form it reads back.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SECONDS = 24 * 3600  # one entry covers at most a day

_UNITS = {
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "小时": 3600,
    "时": 3600,
    "個小時": 3600,
    "个小时": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "分钟": 60,
    "分鐘": 60,
    "分": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "秒": 1,
    "秒钟": 1,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z\u4e00-\u9fff]+)")
_CLOCK = re.compile(r"^(\d+):([0-5]?\d)(?::([0-5]\d))?$")


_NOT_A_DURATION = "'%(value)s' is not a duration (try 15m, 1h 30m or 1:30)."


class DurationError(ValueError):
    """Not a duration. `template` (English, named placeholders) and `params` let the services translate it."""

    def __init__(self, template: str, **params: str | int) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params


def parse_duration(text: str) -> int:
    """Seconds in a typed duration; a bare number is minutes. Raises DurationError for anything else, for zero and
    for more than a day."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    cleaned = raw.replace("个半小时", ".5h").replace("半个小时", "0.5h").replace("半小时", "0.5h")
    cleaned = re.sub(r"\s+(and|和)\s+", " ", cleaned).strip().rstrip(".")
    if not cleaned:
        raise DurationError("Enter how long, like 15m, 1h 30m or 1:30.")
    if len(cleaned) > 40:
        raise DurationError(_NOT_A_DURATION, value=text[:40])
    seconds = _clock_or_minutes(cleaned)
    if seconds is None:
        seconds = _units(cleaned, text)
    total = round(seconds)
    if total <= 0:
        raise DurationError("A duration must be more than zero.")
    if total > MAX_SECONDS:
        raise DurationError("One entry covers at most %(hours)d hours.", hours=MAX_SECONDS // 3600)
    return total


def _clock_or_minutes(cleaned: str) -> float | None:
    """ "1:30" / "0:05:30" (hours:minutes[:seconds]) or a bare number of minutes; None for anything else."""
    if clock := _CLOCK.match(cleaned):
        return int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3] or 0)
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return float(cleaned) * 60
    return None


def _units(cleaned: str, text: str) -> float:
    """Numbers with units ("1h 30m", "1小时30分钟", "1h30": minutes after hours)."""
    seconds, end, unit = 0.0, 0, 0
    for match in _PART.finditer(cleaned):
        unit = _UNITS.get(match[2], 0)
        if cleaned[end : match.start()].strip() or not unit:
            raise DurationError(_NOT_A_DURATION, value=text[:40])
        seconds += float(match[1]) * unit
        end = match.end()
    rest = cleaned[end:].strip()
    if rest.isdigit() and unit == 3600:  # "1h30", "1小时30": the minutes after the hours
        return seconds + int(rest) * 60
    if end == 0 or rest:
        raise DurationError(_NOT_A_DURATION, value=text[:40])
    return seconds


def format_duration(seconds: int) -> str:
    """ "1h 30m", "15m", "45s", "2h": the compact form `parse_duration` reads back."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes:
        parts.append(f"{minutes}m")
    if secs and not hours:
        parts.append(f"{secs}s")
    return " ".join(parts) or "0m"
