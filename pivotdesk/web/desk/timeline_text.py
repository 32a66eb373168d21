"""Timeline events in plain words: "王芳 changed priority Normal → Urgent", "merged into #10234"."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from pivotdesk.common.choices import Channel
from pivotdesk.tickets.models import Priority, Status, TicketEvent, TicketType

FIELD_LABELS = {
    "status": gettext_lazy("status"),
    "priority": gettext_lazy("priority"),
    "ticket_type": gettext_lazy("type"),
    "category": gettext_lazy("category"),
    "team": gettext_lazy("team"),
    "assignee": gettext_lazy("assignee"),
    "subject": gettext_lazy("subject"),
    "language": gettext_lazy("language"),
    "custom_status": gettext_lazy("status label"),
    "tags": gettext_lazy("tags"),
    "followers": gettext_lazy("followers"),
    "parent": pgettext_lazy("ticket", "parent"),
}
CHOICES: dict[str, Any] = {"status": Status, "priority": Priority, "ticket_type": TicketType}
EMPTY = "—"


def _value(field: str, value: Any) -> str:
    """A readable rendering of an old/new value."""
    if value in (None, "", []):
        return EMPTY
    enum = CHOICES.get(field)
    if enum is not None and value in enum.values:
        return str(enum(value).label)
    if isinstance(value, dict):
        if "number" in value:
            return f"#{value['number']}"
        return str(value.get("name") or value.get("id") or EMPTY)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _ticket_link(value: Any) -> SafeString | str:
    if isinstance(value, dict) and value.get("number"):
        url = reverse("web:ticket", args=[value["number"]])
        return format_html('<a href="{}">#{}</a>', url, value["number"])
    return EMPTY


def _tags_change(old: Any, new: Any) -> str:
    before, after = set(old or []), set(new or [])
    parts = [f"+{t}" for t in sorted(after - before)] + [f"−{t}" for t in sorted(before - after)]
    return " ".join(parts) or EMPTY


def _field_label(field: str) -> str:
    if field.startswith("custom_fields."):
        return field.split(".", 1)[1]
    return str(FIELD_LABELS.get(field, field))


def event_sentence(event: TicketEvent, field_labels: dict[str, str] | None = None) -> SafeString:
    """One timeline event as an HTML-safe sentence in the active language (the actor's name comes first)."""
    actor = event.actor_label or (event.actor_agent.name if event.actor_agent else "") or event.actor_type
    verb, field, old, new = event.verb, event.field, event.old_value, event.new_value
    args: dict[str, Any] = {"actor": actor}
    if verb == "created":
        channel = event.data.get("channel", "")
        label = str(Channel(channel).label) if channel in Channel.values else channel
        return format_html(_("{actor} created the ticket via {channel}"), actor=actor, channel=label)
    if verb == "status_changed":
        return format_html(
            _("{actor} changed status {old} → {new}"), old=_value("status", old), new=_value("status", new), **args
        )
    if verb == "assigned":
        if not new:
            return format_html(_("{actor} unassigned the ticket"), **args)
        return format_html(_("{actor} assigned the ticket to {agent}"), agent=_value("assignee", new), **args)
    if verb == "message_added":
        if event.data.get("kind") == "note":
            return format_html(_("{actor} added an internal note"), **args)
        return format_html(_("{actor} added a public reply"), **args)
    if verb == "merged":
        return format_html(_("{actor} merged this ticket into {ticket}"), ticket=_ticket_link(new), **args)
    if verb == "merged_from":
        return format_html(_("{actor} merged {ticket} into this ticket"), ticket=_ticket_link(new), **args)
    if verb in ("linked", "unlinked"):
        return _link_sentence(verb, field, new if verb == "linked" else old, args)
    if verb in ("child_added", "child_removed"):
        template = _("{actor} added child ticket {ticket}") if verb == "child_added" else None
        template = template or _("{actor} removed child ticket {ticket}")
        return format_html(template, ticket=_ticket_link(new), **args)
    if verb == "requester_merged":
        return format_html(
            _("{actor} merged the requester {old} into {new}"), old=_value("", old), new=_value("", new), **args
        )
    if verb == "field_changed":
        return _field_sentence(field, old, new, args, field_labels or {})
    if verb.startswith("sla_"):
        from pivotdesk.web.sla.timeline import sla_sentence  # the SLA sentences live beside their badges

        sentence = sla_sentence(event, actor)
        if sentence is not None:
            return sentence
    return format_html("{actor}: {verb} {field}", verb=verb, field=field, **args)


def _link_sentence(verb: str, field: str, other: Any, args: dict[str, Any]) -> SafeString:
    ticket = _ticket_link(other)
    if verb == "unlinked":
        return format_html(_("{actor} removed the link to {ticket}"), ticket=ticket, **args)
    templates = {
        "related": _("{actor} linked related ticket {ticket}"),
        "related_from": _("{actor} linked related ticket {ticket}"),
        "duplicate_of": _("{actor} marked this ticket as a duplicate of {ticket}"),
        "duplicate_of_from": _("{actor} marked {ticket} as a duplicate of this ticket"),
    }
    return format_html(templates.get(field, _("{actor} linked {ticket}")), ticket=ticket, **args)


def _field_sentence(field: str, old: Any, new: Any, args: dict[str, Any], field_labels: dict[str, str]) -> SafeString:
    if field == "tags":
        return format_html(_("{actor} changed tags: {change}"), change=_tags_change(old, new), **args)
    if field == "followers":
        return format_html(_("{actor} changed the followers"), **args)
    if field == "custom_status":
        return format_html(_("{actor} set the status label to {new}"), new=_value(field, new), **args)
    if field == "parent":
        if not new:
            return format_html(_("{actor} removed the parent ticket {ticket}"), ticket=_ticket_link(old), **args)
        return format_html(_("{actor} set the parent ticket to {ticket}"), ticket=_ticket_link(new), **args)
    label = field_labels.get(field) or _field_label(field)
    key = field.split(".", 1)[0]
    return format_html(
        _("{actor} changed {field} {old} → {new}"), field=label, old=_value(key, old), new=_value(key, new), **args
    )
