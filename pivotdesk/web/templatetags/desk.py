"""Template helpers of the agent workspace: chips, localized labels, timeline sentences."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from pivotdesk.common.choices import Channel
from pivotdesk.customers.models import Tier
from pivotdesk.tickets.models import Priority, Status, Ticket, TicketEvent
from pivotdesk.web.desk.timeline_text import actor_name, event_sentence

register = template.Library()


def _zh() -> bool:
    return (get_language() or "").lower().startswith("zh")


@register.filter
def local(obj: Any, attr: str = "label") -> str:
    """The Chinese variant of a label (`label_zh`, `name_zh`) when the UI is in Chinese and one is set."""
    if obj is None:
        return ""
    if _zh():
        zh = getattr(obj, f"{attr}_zh", "")
        if zh:
            return str(zh)
    return str(getattr(obj, attr, obj))


@register.simple_tag
def status_chip(ticket: Ticket) -> SafeString:
    """The ticket's status as a coloured chip, showing the workspace's own label when it has one."""
    # Only use the custom label when it is already loaded: a chip must never cost a query per row.
    loaded = ticket.custom_status_id and "custom_status" in ticket._state.fields_cache
    label = local(ticket.custom_status) if loaded else ""
    label = label or str(Status(ticket.status).label)
    return format_html('<span class="chip st-{}">{}</span>', ticket.status, label)


@register.simple_tag
def status_value_chip(value: str) -> SafeString:
    label = Status(value).label if value in Status.values else value
    return format_html('<span class="chip st-{}">{}</span>', value, label)


@register.simple_tag
def priority_chip(value: str) -> SafeString:
    label = Priority(value).label if value in Priority.values else value
    return format_html('<span class="chip pr-{}">{}</span>', value, label)


@register.filter
def channel_label(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value


@register.simple_tag
def tier_badge(tier: str) -> SafeString:
    """A VIP / strategic badge (nothing for standard customers)."""
    if tier not in (Tier.VIP, Tier.STRATEGIC):
        return SafeString("")
    return format_html('<span class="badge tier-{}">{}</span>', tier, Tier(tier).label)


@register.simple_tag(takes_context=True)
def timeline_sentence(context: template.Context, event: TicketEvent) -> SafeString:
    """A timeline event as a sentence; status changes use the workspace's labels when the view passed them
    (`status_definitions`, id → definition, read once per timeline)."""
    return event_sentence(event, status_definitions=context.get("status_definitions"))


@register.filter
def event_actor(event: TicketEvent) -> str:
    """Who did a timeline event, in the reader's language (the system's and the AI's actors from their code)."""
    return actor_name(event)


@register.filter
def initials(name: str) -> str:
    """One or two letters for an avatar: the first character of a Chinese name, or English initials."""
    name = (name or "?").strip()
    if not name:
        return "?"
    if not name.isascii():
        return name[0]
    parts = [p for p in name.replace("@", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.filter
def contains(collection: Any, item: Any) -> bool:
    try:
        return item in collection
    except TypeError:
        return False


@register.filter
def is_image(content_type: str) -> bool:
    return content_type.startswith("image/") and not content_type.startswith("image/svg")
