"""Timeline events in plain words: "王芳 changed priority Normal → Urgent", "merged into #10234"."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from pivotdesk.common.choices import Channel
from pivotdesk.tickets.models import Priority, Status, StatusDefinition, TicketEvent, TicketType
from pivotdesk.web.desk.statuses import category_text, label_text

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

# The system's actors are stored as codes ("routing", "channel", ...; older rows say "Routing"): named at display.
SYSTEM_ACTORS = {
    "system": gettext_lazy("System"),
    "routing": gettext_lazy("Routing"),
    "triage": gettext_lazy("AI triage"),
    "ai": gettext_lazy("AI"),
    "channel": gettext_lazy("Channel intake"),
    "outbox": gettext_lazy("Delivery"),
    "cli": gettext_lazy("Command line"),
    "call centre": gettext_lazy("Call centre"),
    "sla": gettext_lazy("SLA"),
    "automation": gettext_lazy("Automation"),
    "auto-close": gettext_lazy("Auto-close"),
    "customer replied": gettext_lazy("Customer reply"),
    "demo": gettext_lazy("Demo data"),
    "demo seed": gettext_lazy("Demo data"),
    "webhooks": gettext_lazy("Webhooks"),
    "login": gettext_lazy("Sign-in"),
}
# The AI's actors are stored as "<model name> <version>": the model names a step, the version stays as it is.
AI_MODELS = {
    "pivotdesk-classify": gettext_lazy("AI classification"),
    "pivotdesk-": gettext_lazy("AI classification"),  # pivotdesk-<algorithm>, the workspace's trained classifier
    "multimodal": gettext_lazy("AI attachment reader"),
    "rapidocr-onnxruntime pp-ocrv4 (zh+en)": gettext_lazy("AI text recognition"),
    "lingua": gettext_lazy("AI language detection"),
    "lexicon-sentiment": gettext_lazy("AI sentiment"),
    "extractive-summary": gettext_lazy("AI summary"),
    "connectors": gettext_lazy("AI enrichment"),
    "llm:": gettext_lazy("AI (language model)"),
    "triage": gettext_lazy("AI triage"),
    "ai": gettext_lazy("AI"),
}


def actor_name(event: TicketEvent) -> str:
    """Who did it, in the reader's language: a person's name as it is, the system's and the AI's actors from their
    stored code ("Routing" → "自动分配", "pivotdesk-classify v3" → "AI 分类 (v3)")."""
    label = event.actor_label or ""
    kind = event.actor_type
    if kind == "ai":
        for prefix, name in AI_MODELS.items():
            lowered = label.lower()
            if lowered == prefix or lowered.startswith(prefix if prefix.endswith(("-", ":")) else f"{prefix} "):
                detail = label[len(prefix) :].strip()  # the version, or the algorithm / model id after a prefix
                return f"{name} ({detail})" if detail else str(name)
        return f"{_('AI')} ({label})" if label else _("AI")
    if kind == "system":
        if label.startswith("admin site: "):
            return _("Admin site: %(user)s") % {"user": label.removeprefix("admin site: ")}
        if label.startswith("admin:"):
            return _("Admin site: %(user)s") % {"user": label.removeprefix("admin:")}
        known = SYSTEM_ACTORS.get(label.lower() or "system")
        return str(known) if known is not None else label
    if event.actor_agent is not None and not label:
        return event.actor_agent.name
    if kind == "rule" and not label:
        return _("Automation")
    if kind == "contact" and not label:
        return _("Customer")
    return label or str(SYSTEM_ACTORS.get(kind, kind))


def status_text(category: Any, definition_id: Any, definitions: dict[int, StatusDefinition] | None) -> str:
    """A status as the workspace names it: the label the ticket had (when the event knows it), else the category."""
    if definitions and isinstance(definition_id, int) and definition_id in definitions:
        return label_text(definitions[definition_id])
    if category in (None, ""):
        return EMPTY
    return category_text(str(category))


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


def event_sentence(
    event: TicketEvent,
    field_labels: dict[str, str] | None = None,
    status_definitions: dict[int, StatusDefinition] | None = None,
) -> SafeString:
    """One timeline event as an HTML-safe sentence in the active language (the actor's name comes first). Status
    changes name the workspace's labels when `status_definitions` (id → definition) is given."""
    actor = actor_name(event)
    verb, field, old, new = event.verb, event.field, event.old_value, event.new_value
    args: dict[str, Any] = {"actor": actor}
    if verb == "created":
        channel = event.data.get("channel", "")
        label = str(Channel(channel).label) if channel in Channel.values else channel
        return format_html(_("{actor} created the ticket via {channel}"), actor=actor, channel=label)
    if verb == "status_changed":
        data = event.data or {}
        new_id = data.get("label_id")
        if new_id is None and data.get("label") and status_definitions:  # an event from before ids were kept
            new_id = next((d.pk for d in status_definitions.values() if d.label == data["label"]), None)
        return format_html(
            _("{actor} changed status {old} → {new}"),
            old=status_text(old, data.get("old_label_id"), status_definitions),
            new=status_text(new, new_id, status_definitions),
            **args,
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
        if field == "custom_status":
            return _label_sentence(old, new, args, status_definitions)
        return _field_sentence(field, old, new, args, field_labels or {})
    if verb.startswith("sla_"):
        from pivotdesk.web.sla.timeline import sla_sentence  # the SLA sentences live beside their badges

        sentence = sla_sentence(event, actor)
        if sentence is not None:
            return sentence
    if verb.startswith("automation_"):
        from pivotdesk.automation.timeline import automation_sentence

        sentence = automation_sentence(event, actor)
        if sentence is not None:
            return sentence
    if verb.startswith(("oncall_", "partner_")) or verb in ("after_hours_reply", "after_hours_person"):
        from pivotdesk.oncall.timeline import oncall_sentence

        sentence = oncall_sentence(event, actor)
        if sentence is not None:
            return sentence
    if verb.startswith("survey_"):
        from pivotdesk.surveys.timeline import survey_sentence

        sentence = survey_sentence(event, actor)
        if sentence is not None:
            return sentence
    return format_html("{actor}: {verb} {field}", verb=verb, field=field, **args)


def _label_sentence(
    old: Any, new: Any, args: dict[str, Any], definitions: dict[int, StatusDefinition] | None
) -> SafeString:
    """A label changed within one category ("In progress → Waiting for parts"): named from the definitions."""

    def name(value: Any) -> str:
        if not isinstance(value, dict):
            return EMPTY
        found = status_text(None, value.get("id"), definitions)
        if found != EMPTY:
            return found
        return str(value.get("label") or value.get("name") or EMPTY).removesuffix(f" ({value.get('category', '')})")

    if old:
        return format_html(_("{actor} changed status {old} → {new}"), old=name(old), new=name(new), **args)
    return format_html(_("{actor} set the status label to {new}"), new=name(new), **args)


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
