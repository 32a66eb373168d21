"""SLA badges: time left to the next deadline, coloured by state (queue rows read only ticket columns)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from pivotdesk.common.time import now
from pivotdesk.sla.models import ClockState, TicketSLA
from pivotdesk.tickets.models import Status

register = template.Library()

STATES = ("ok", "warning", "breached", "paused")


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
    """The colour to show: a passed deadline is red even before the scanner has marked it breached."""
    if state == "paused":
        return "paused"
    if due_at is not None and due_at <= at:
        return "breached"
    if state in STATES:
        return state
    return "ok" if due_at is not None else ""


def _badge(*, state: str, due_at: dt.datetime | None, label: str = "", paused_left: float | None = None) -> SafeString:
    at = now()
    shown = display_state(state=state, due_at=due_at, at=at)
    if not shown:
        return mark_safe('<span class="sla-badge sla-none muted">—</span>')
    if shown == "paused":
        # A paused clock has no fixed deadline: show what is left of the target when it is known.
        text = state_label(shown) if paused_left is None else f"⏸ {duration_text(paused_left)}"
        title = state_label(shown)
        if paused_left is not None:
            title = _("%(state)s · %(left)s left") % {"state": title, "left": duration_text(paused_left)}
    elif due_at is None:
        text = title = state_label(shown)
    else:
        text = duration_text((due_at - at).total_seconds())
        when = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
        title = _("%(state)s · due %(when)s") % {"state": state_label(shown), "when": when}
    if label:
        return format_html(
            '<span class="sla-badge sla-{}" title="{}: {}" data-sla-state="{}"><b>{}</b> {}</span>',
            shown,
            label,
            title,
            shown,
            label,
            text,
        )
    return format_html(
        '<span class="sla-badge sla-{}" title="{}" data-sla-state="{}">{}</span>', shown, title, shown, text
    )


@register.simple_tag
def sla_badge(ticket: Any) -> SafeString:
    """The queue badge from the ticket's own columns (sla_due_at, sla_state): never a query."""
    return _badge(state=ticket.sla_state or "", due_at=ticket.sla_due_at)


@register.simple_tag
def sla_target_badge(clock: Any, ticket: Any = None) -> SafeString:
    """One running clock of a ticket (TicketSLA). It is amber when it is the ticket's nearest deadline and the
    ticket is in warning (the scanner decides warnings); red once its deadline has passed."""
    if clock.state == "paused" or clock.paused:
        left = max(0.0, clock.target_minutes * 60 - clock.elapsed_seconds) if clock.target_minutes else None
        return _badge(state="paused", due_at=None, label=metric_label(clock.metric), paused_left=left)
    state = "breached" if clock.state == "breached" or clock.breached_at else "ok"
    if (
        state == "ok"
        and ticket is not None
        and ticket.sla_state == "warning"
        and clock.due_at is not None
        and clock.due_at == ticket.sla_due_at
    ):
        state = "warning"
    return _badge(state=state, due_at=clock.due_at, label=metric_label(clock.metric))


@register.simple_tag
def ticket_clocks(ticket: Any) -> list[Any]:
    """The ticket's clocks that are still running or paused (one query; the ticket page only)."""
    live = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)
    rows = TicketSLA.objects.filter(ticket_id=ticket.pk, state__in=live, fulfilled_at__isnull=True)
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
        return _("fulfilled %(d)s late") % {"d": duration_text(cause.seconds or 0)}
    if kind == "still_open":
        return _("not fulfilled yet, %(d)s overdue") % {"d": duration_text(cause.seconds or 0)}
    return str(kind)
