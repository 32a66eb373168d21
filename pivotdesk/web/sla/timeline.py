"""SLA timeline events in plain words, in the reader's language: "SLA: first reply breached (due 14:00)".

The SLA app stores an English sentence in `event.data["text"]` for logs and the API; the agent UI builds its own
from the event's fields so that it follows the active language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pivotdesk.sla.services.escalation import step_text
from pivotdesk.sla.services.scan import NOBODY_TO_NOTIFY
from pivotdesk.tickets.models import Priority, TicketEvent
from pivotdesk.web.sla.templatetags import duration_text, metric_label

EMPTY = "—"


def _due(value: Any) -> str:
    if not value:
        return EMPTY
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return timezone.localtime(at).strftime("%m-%d %H:%M")


def _minutes(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("minutes"), int):
        return duration_text(value["minutes"] * 60)
    return EMPTY


def _targets(targets: list[Any]) -> SafeString:
    """ "First reply 30 m (due 03-02 09:30), Resolution 4 h (calendar hours, due 03-02 13:00)"."""
    parts = []
    for t in targets:
        if not isinstance(t, dict):
            continue
        minutes = _minutes(t)
        due = _due(t.get("due_at"))
        if t.get("business_hours", True):
            text = format_html(
                _("{metric} {minutes} (due {due})"),
                metric=metric_label(str(t.get("metric", ""))),
                minutes=minutes,
                due=due,
            )
        else:
            text = format_html(
                _("{metric} {minutes} (calendar hours, due {due})"),
                metric=metric_label(str(t.get("metric", ""))),
                minutes=minutes,
                due=due,
            )
        parts.append(text)
    return format_html_join(", ", "{}", ((p,) for p in parts)) if parts else SafeString(EMPTY)


def _priority(value: str) -> str:
    return str(Priority(value).label) if value in Priority.values else value


def _role(role: str) -> str:
    roles = {
        "assignee": pgettext("sla recipient", "assignee"),
        "team lead": pgettext("sla recipient", "team lead"),
        "supervisor": pgettext("sla recipient", "supervisor"),
        "named": pgettext("sla recipient", "named"),
    }
    return roles.get(role, role)


def _step(step: dict[str, Any]) -> str:
    """One thing an SLA firing did, in the reader's language (the scanner stores it as data)."""
    return step_text(
        step,
        translate=_,
        role=_role(str(step.get("role", ""))),
        old=_priority(str(step.get("old", ""))),
        new=_priority(str(step.get("new", ""))),
    )


def _details(event: TicketEvent) -> str:
    steps = event.data.get("steps")
    if isinstance(steps, list):
        done = [_step(s) for s in steps if isinstance(s, dict)]
    else:  # events written before steps were stored keep their English sentences
        done = [str(d) for d in event.data.get("done") or []]
    errors = [
        _("nobody to notify: the ticket has no assignee and its team no lead") if e == NOBODY_TO_NOTIFY else str(e)
        for e in event.data.get("errors") or []
    ]
    parts = _(", ").join(done)
    if errors:
        parts += (" " if parts else "") + "(" + "; ".join(errors) + ")"
    return parts


def sla_sentence(event: TicketEvent, actor: str) -> SafeString | None:
    """The sentence of an `sla_*` event, or None for a verb this module does not know."""
    verb, new, old = event.verb, event.new_value, event.old_value
    metric = metric_label(event.field) if event.field and event.field != "sla_policy" else ""
    applied = new if verb == "sla_policy_changed" and old is None and isinstance(new, dict) else None
    if applied is not None and isinstance(applied.get("targets"), list):  # a ticket's first policy
        return format_html(
            _("{actor}: SLA policy → {new}: {targets}"),
            actor=actor,
            new=applied.get("name") or EMPTY,
            targets=_targets(applied["targets"]),
        )
    if verb == "sla_policy_changed":
        return format_html(
            _("{actor}: SLA policy {old} → {new}"),
            actor=actor,
            old=(old or {}).get("name") or EMPTY,
            new=(new or {}).get("name") or EMPTY,
        )
    if verb == "sla_target_changed":
        return format_html(
            _("{actor}: {metric} target {old} → {new}, due {old_due} → {new_due}"),
            actor=actor,
            metric=metric,
            old=_minutes(old),
            new=_minutes(new),
            old_due=_due((old or {}).get("due_at")),
            new_due=_due((new or {}).get("due_at")),
        )
    details = _details(event)
    if verb == "sla_warning":
        sentence = format_html(
            _("{actor}: warning ({label}), {metric} due {due}"),
            actor=actor,
            label=(new or {}).get("label", ""),
            metric=metric,
            due=_due((new or {}).get("due_at")),
        )
    elif verb == "sla_breached":
        sentence = format_html(
            _("{actor}: {metric} breached (due {due})"), actor=actor, metric=metric, due=_due((new or {}).get("due_at"))
        )
    elif verb == "sla_escalated":
        sentence = format_html(
            _("{actor}: escalated to level {level}, {metric} breached (due {due})"),
            actor=actor,
            level=event.data.get("level", "?"),
            metric=metric,
            due=_due((new or {}).get("due_at")),
        )
    else:
        return None
    return format_html("{} — {}", sentence, details) if details else sentence
