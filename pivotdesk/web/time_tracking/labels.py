"""Durations as a person reads them, in their language ("1 h 30 min", "1 小时 30 分钟")."""

from __future__ import annotations

from django.utils.translation import gettext as _


def duration_label(seconds: int) -> str:
    """Hours and minutes; seconds only below a minute."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    if minutes:
        return _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": secs}
