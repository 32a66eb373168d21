"""SLA badges: time left to the next deadline, coloured by state (queue rows read only ticket columns)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from pivotdesk.common.time import now
from pivotdesk.sla.domain import status
from pivotdesk.sla.models import ClockState, SLAOutcome, TicketSLA
from pivotdesk.tickets.models import Status

register = template.Library()


def duration_text(seconds: float) -> str:
    """A compact signed duration: "2 h 10 m", "3 d 4 h", "45 m", "-35 m" (overdue), "0 m"."""
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}
    elif hours:
        text = _("%(h)d h %(m)d m") % {"h": hours, "m": mins} if mins else _("%(h)d h") % {"h": hours}
    else:
        text = _("%(m)d m") % {"m": mins}
    return f"{sign}{text}" if minutes else text


def state_label(state: str) -> str:
    """The state's name in the UI language."""
    labels = {
        "ok": pgettext("sla state", "On track"),
        "warning": pgettext("sla state", "Warning"),
        "breached": pgettext("sla state", "Breached"),
        "paused": pgettext("sla state", "Paused"),
    }
    return labels.get(state, state)


def metric_label(metric: str) -> str:
    """The name of an SLA metric in the UI language."""
    labels = {
        "first_reply": pgettext("sla metric", "First reply"),
        "next_reply": pgettext("sla metric", "Next reply"),
        "periodic_update": pgettext("sla metric", "Periodic update"),
        "resolution": pgettext("sla metric", "Resolution"),
    }
    return labels.get(metric, metric)


def display_state(*, state: str, due_at: dt.datetime | None, at: dt.datetime) -> str:
    """The colour to show for a ticket's columns: a passed deadline is red even before the scanner marks it."""
    return status.from_columns(state, due_at).shown(at)


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%m-%d %H:%M")


def _badge_text(s: status.ClockStatus, shown: str, at: dt.datetime, paused_left: float | None) -> tuple[str, str]:
    """(text, hover title) of a badge."""
    if shown == status.BREACHED and s.paused:
        return pgettext("sla state", "Breached, paused"), pgettext("sla state", "Breached, paused")
    if shown == status.PAUSED:
        # A paused clock has no fixed deadline: show what is left of the target when it is known.
        if paused_left is None:
            return state_label(shown), state_label(shown)
        left = duration_text(paused_left)
        return f"⏸ {left}", _("%(state)s · %(left)s left") % {"state": state_label(shown), "left": left}
    if s.due_at is None:
        return state_label(shown), state_label(shown)
    when = timezone.localtime(s.due_at).strftime("%Y-%m-%d %H:%M")
    title = _("%(state)s · due %(when)s") % {"state": state_label(shown), "when": when}
    seconds = (s.due_at - at).total_seconds()
    if shown == status.BREACHED and seconds > 0:  # breached before a re-target gave the clock a later due time
        return _("Breached · %(left)s left") % {"left": duration_text(seconds)}, title
    return duration_text(seconds), title


def render_status(
    s: status.ClockStatus, *, label: str = "", paused_left: float | None = None, note: str = ""
) -> SafeString:
    """The one badge renderer: the queue (a ticket's columns) and the ticket page (each clock) both use it."""
    at = now()
    shown = s.shown(at)
    if not shown:
        return mark_safe('<span class="sla-badge sla-none muted">—</span>')
    text, title = _badge_text(s, shown, at, paused_left)
    if note:
        title = f"{title} · {note}"
    paused = "1" if s.paused else ""
    if label:
        return format_html(
            '<span class="sla-badge sla-{}" title="{}: {}" data-sla-state="{}" data-sla-paused="{}"><b>{}</b> {}</span>',
            shown,
            label,
            title,
            shown,
            paused,
            label,
            text,
        )
    return format_html(
        '<span class="sla-badge sla-{}" title="{}" data-sla-state="{}" data-sla-paused="{}">{}</span>',
        shown,
        title,
        shown,
        paused,
        text,
    )


def clock_row_status(clock: Any, ticket: Any = None) -> status.ClockStatus:
    """A stored clock (TicketSLA) as a badge status, by the rule `sla_apply` used for the ticket's columns. It is
    amber when it is the ticket's nearest deadline and the ticket is in warning (the scanner decides warnings)."""
    warned = (
        ticket is not None
        and ticket.sla_state == status.WARNING
        and clock.due_at is not None
        and clock.due_at == ticket.sla_due_at
    )
    return status.clock_status(
        started=clock.started_at is not None or clock.state != ClockState.IDLE,
        fulfilled=clock.fulfilled_at is not None or clock.state == ClockState.FULFILLED,
        paused=bool(clock.paused or clock.state == ClockState.PAUSED),
        due_at=clock.due_at,
        breached=clock.breached_at is not None or clock.state == ClockState.BREACHED,
        warned=warned,
    )


def breach_note(clock: Any, ticket: Any = None) -> str:
    """ "Breached at 03-02 11:00 (target was 30 min before the priority changed)" for a breached clock; the
    target part only when the clock's target changed after the breach (`clock.breach_outcome`, see ticket_clocks)."""
    if clock.breached_at is None:
        return ""
    text = _("Breached at %(when)s") % {"when": _when(clock.breached_at)}
    outcome = getattr(clock, "breach_outcome", None)
    if outcome is None or outcome.target_minutes == clock.target_minutes:
        return text
    if ticket is not None and outcome.priority and outcome.priority != ticket.priority:
        return _("%(breached)s (target was %(n)d min before the priority changed)") % {
            "breached": text,
            "n": outcome.target_minutes,
        }
    return _("%(breached)s (target was %(n)d min before the target changed)") % {
        "breached": text,
        "n": outcome.target_minutes,
    }


@register.simple_tag
def sla_badge(ticket: Any) -> SafeString:
    """The queue badge from the ticket's own columns (sla_due_at, sla_state): never a query."""
    return render_status(status.from_columns(ticket.sla_state or "", ticket.sla_due_at))


@register.simple_tag
def sla_target_badge(clock: Any, ticket: Any = None) -> SafeString:
    """One live clock of a ticket (TicketSLA), by the same rule and renderer as the queue's badge: a breached clock
    stays breached while paused ("Breached, paused"), and says when it breached."""
    s = clock_row_status(clock, ticket)
    left = None
    if s.state == status.PAUSED and clock.target_minutes:
        left = max(0.0, clock.target_minutes * 60 - clock.elapsed_seconds)
    return render_status(s, label=metric_label(clock.metric), paused_left=left, note=breach_note(clock, ticket))


@register.simple_tag
def sla_breach_note(clock: Any, ticket: Any = None) -> str:
    """The visible note of a clock that breached before its target changed ("" otherwise)."""
    outcome = getattr(clock, "breach_outcome", None)
    if clock.breached_at is None or outcome is None or outcome.target_minutes == clock.target_minutes:
        return ""
    return breach_note(clock, ticket)


@register.simple_tag
def ticket_clocks(ticket: Any) -> list[Any]:
    """The ticket's clocks that are still running or paused, each breached one with the outcome its breach
    recorded (`breach_outcome`: the target it missed). Two queries at most; the ticket page only."""
    live = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)
    rows = list(TicketSLA.objects.filter(ticket_id=ticket.pk, state__in=live, fulfilled_at__isnull=True))
    breached = [r for r in rows if r.breached_at is not None]
    if breached:
        outcomes = {
            (o.metric, o.cycle): o
            for o in SLAOutcome.objects.filter(
                ticket_id=ticket.pk, breached_at__isnull=False, metric__in=[r.metric for r in breached]
            ).only("metric", "cycle", "target_minutes", "priority", "due_at", "breached_at")
        }
        for r in breached:
            r.breach_outcome = outcomes.get((r.metric, r.cycle))  # type: ignore[attr-defined]
    order = {"first_reply": 0, "next_reply": 1, "periodic_update": 2, "resolution": 3}
    return sorted(rows, key=lambda c: order.get(c.metric, 9))


@register.filter
def sla_duration(seconds: float | None) -> str:
    """A duration in seconds as compact text (for reports)."""
    return "" if seconds is None else duration_text(seconds)


@register.filter
def sla_metric(metric: str) -> str:
    return metric_label(metric)


def _status_name(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _late_seconds(seconds: float) -> float:
    """Lateness rounded up to the minute: a breach is never "0 m late"."""
    return 60.0 * max(1, math.ceil(seconds / 60))


@register.filter
def sla_cause(cause: Any) -> str:
    """One cause of a breach (sla.reports.Cause) in words."""
    kind = cause.kind
    if kind == "unassigned":
        return _("waited %(d)s unassigned") % {"d": duration_text(cause.seconds)}
    if kind == "paused":
        return _("paused %(d)s") % {"d": duration_text(cause.seconds or 0)}
    if kind == "reassigned":
        return ngettext("reassigned %(n)d time", "reassigned %(n)d times", cause.count) % {"n": cause.count}
    if kind == "assignee_away":
        when = timezone.localtime(cause.at).strftime("%m-%d %H:%M") if cause.at else ""
        return _("assignee %(name)s offline since %(when)s") % {"name": cause.name, "when": when}
    if kind == "status_path":
        return " → ".join(f"{_status_name(st)} {duration_text(s)}" for st, s in cause.path)
    if kind == "late":
        if cause.seconds is None:
            return _("fulfilled late")
        return _("fulfilled %(d)s late") % {"d": duration_text(_late_seconds(cause.seconds))}
    if kind == "still_open":
        if cause.seconds is None:
            return _("not fulfilled yet")
        return _("not fulfilled yet, %(d)s overdue") % {"d": duration_text(_late_seconds(cause.seconds))}
    return str(kind)
