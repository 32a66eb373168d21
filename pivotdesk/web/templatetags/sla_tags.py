"""SLA badges: time left to the next deadline, coloured by state (queue rows read only ticket columns)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pivotdesk.common.time import now

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


def _badge(*, state: str, due_at: dt.datetime | None, label: str = "") -> SafeString:
    at = now()
    shown = display_state(state=state, due_at=due_at, at=at)
    if not shown:
        return mark_safe('<span class="sla-badge sla-none muted">—</span>')
    if due_at is None:
        text = state_label(shown)
        title = state_label(shown)
    else:
        text = duration_text((due_at - at).total_seconds())
        when = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
        title = _("%(state)s · due %(when)s") % {"state": state_label(shown), "when": when}
        if shown == "paused":
            text = f"⏸ {text}"
    if label:
        title = f"{label}: {title}"
        return format_html(
            '<span class="sla-badge sla-{}" title="{}" data-sla-state="{}"><b>{}</b> {}</span>',
            shown,
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
def sla_target_badge(target: Any) -> SafeString:
    """One running target of a ticket (a TicketSLA-like object with metric, due_at, state, paused)."""
    state = "paused" if getattr(target, "paused", False) else (getattr(target, "state", "") or "ok")
    return _badge(state=state, due_at=target.due_at, label=metric_label(target.metric))


@register.filter
def sla_duration(seconds: float | None) -> str:
    """A duration in seconds as compact text (for reports)."""
    return "" if seconds is None else duration_text(seconds)


@register.filter
def sla_metric(metric: str) -> str:
    return metric_label(metric)
