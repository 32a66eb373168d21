"""Rules in the reader's language: field labels, operator words, values, and a rule's conditions and actions as one
plain sentence ("Priority is Urgent and Subject contains any of 投诉, complaint"). Codes stay in the data; the words
are chosen at display time (bilingual at the source)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.automation.domain import conditions as conds
from pivotdesk.automation.models import ApprovalFlow, ChainTemplate, Macro
from pivotdesk.customers.models import CustomerOrganization, Tier
from pivotdesk.tickets.models import Category, Priority, SlaState, Status, Ticket, TicketType

FIELD_LABELS: Mapping[str, Any] = {
    "status": gettext_lazy("Status"),
    "priority": gettext_lazy("Priority"),
    "type": gettext_lazy("Type"),
    "channel": gettext_lazy("Channel"),
    "tier": gettext_lazy("Customer tier"),
    "language": gettext_lazy("Language"),
    "sentiment": gettext_lazy("Sentiment"),
    "sla_state": gettext_lazy("SLA state"),
    "event": gettext_lazy("Event"),
    "event_type": gettext_lazy("Business event type"),
    "category": gettext_lazy("Category"),
    "team": gettext_lazy("Team"),
    "assignee": gettext_lazy("Assignee"),
    "organization": gettext_lazy("Customer organization"),
    "category_path": gettext_lazy("Category or its parents"),
    "tags": gettext_lazy("Tags"),
    "sentiment_confidence": gettext_lazy("Sentiment confidence (0–1)"),
    "minutes_to_breach": gettext_lazy("Minutes to SLA breach"),
    "hours_since_created": gettext_lazy("Hours since created"),
    "hours_since_updated": gettext_lazy("Hours since updated"),
    "hours_since_customer_reply": gettext_lazy("Hours since the customer's last reply"),
    "requester_recent_tickets": gettext_lazy("Requester's recent tickets"),
    "business_hours": gettext_lazy("Within business hours"),
    "vip": pgettext_lazy("rule field", "VIP customer"),
    "subject": gettext_lazy("Subject"),
    "body": gettext_lazy("Message text"),
    "changes": gettext_lazy("Changed fields"),
}
KIND_LABELS: Mapping[str, Any] = {
    conds.ENUM: gettext_lazy("Choices"),
    conds.ID: gettext_lazy("Who and where"),
    conds.LIST: gettext_lazy("Lists"),
    conds.NUMBER: gettext_lazy("Numbers"),
    conds.BOOL: gettext_lazy("Yes or no"),
    conds.TEXT: gettext_lazy("Text"),
    conds.CHANGES: gettext_lazy("Changes"),
    conds.CUSTOM: gettext_lazy("Custom fields"),
}
OP_LABELS: Mapping[str, Any] = {
    "is": pgettext_lazy("rule operator", "is"),
    "is_not": pgettext_lazy("rule operator", "is not"),
    "in": pgettext_lazy("rule operator", "is one of"),
    "not_in": pgettext_lazy("rule operator", "is none of"),
    "gt": pgettext_lazy("rule operator", "is more than"),
    "gte": pgettext_lazy("rule operator", "is at least"),
    "lt": pgettext_lazy("rule operator", "is less than"),
    "lte": pgettext_lazy("rule operator", "is at most"),
    "contains": pgettext_lazy("rule operator", "contains"),
    "not_contains": pgettext_lazy("rule operator", "does not contain"),
    "contains_any_words": pgettext_lazy("rule operator", "contains any of"),
    "matches": pgettext_lazy("rule operator", "matches the pattern"),
    "is_set": pgettext_lazy("rule operator", "is set"),
    "not_set": pgettext_lazy("rule operator", "is not set"),
    "under": pgettext_lazy("rule operator", "is in or under"),
    "changed": pgettext_lazy("rule operator", "changed"),
    "changed_from": pgettext_lazy("rule operator", "changed from"),
    "changed_to": pgettext_lazy("rule operator", "changed to"),
}
EVENT_LABELS: Mapping[str, Any] = {
    "ticket.created": gettext_lazy("Ticket created"),
    "ticket.updated": gettext_lazy("Ticket updated"),
    "customer.replied": gettext_lazy("Customer replied"),
    "agent.replied": gettext_lazy("Agent replied"),
    "sla.warning": gettext_lazy("SLA warning"),
    "sla.breach": gettext_lazy("SLA breached"),
    "approval.decided": gettext_lazy("Approval decided"),
    "chain.stage_changed": gettext_lazy("Chain stage changed"),
    "business_event": gettext_lazy("External business event"),
    "time": gettext_lazy("Hourly time sweep"),
}
SENTIMENT_LABELS: Mapping[str, Any] = {
    "negative": gettext_lazy("Negative"),
    "neutral": gettext_lazy("Neutral"),
    "positive": gettext_lazy("Positive"),
    "": gettext_lazy("Not analysed"),
}
ACTION_LABELS: Mapping[str, Any] = {
    "set": gettext_lazy("Set a field"),
    "add_tags": gettext_lazy("Add tags"),
    "remove_tags": gettext_lazy("Remove tags"),
    "assign": gettext_lazy("Assign"),
    "follow": gettext_lazy("Add a follower"),
    "reply": gettext_lazy("Reply to the customer"),
    "note": gettext_lazy("Internal note"),
    "notify": gettext_lazy("Notify"),
    "webhook": gettext_lazy("Call the outgoing webhooks"),
    "create_linked": gettext_lazy("Create a linked ticket"),
    "start_approval": gettext_lazy("Start an approval"),
    "start_chain": gettext_lazy("Start a chain"),
    "apply_macro": gettext_lazy("Apply a macro"),
    "appease": gettext_lazy("Appease the customer"),
}
SETTABLE_FIELDS = ("status", "priority", "type", "category", "team", "assignee", "language")
PLACEHOLDERS = ("{{ ticket.number }}", "{{ ticket.subject }}", "{{ requester.name }}", "{{ order.status }}")


def channel_choices() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Ticket._meta.get_field("channel").choices or []]


def enum_choices(name: str) -> list[tuple[str, str]] | None:
    """The values (code, label) an enum field takes, or None when it is free text (language, event_type)."""
    table: dict[str, list[tuple[str, str]]] = {
        "status": [(str(v), str(lbl)) for v, lbl in Status.choices],
        "priority": [(str(v), str(lbl)) for v, lbl in Priority.choices],
        "type": [(str(v), str(lbl)) for v, lbl in TicketType.choices],
        "tier": [(str(v), str(lbl)) for v, lbl in Tier.choices],
        "sla_state": [(str(v), str(lbl)) for v, lbl in SlaState.choices] + [("", str(_("Not set")))],
        "event": [(e, str(EVENT_LABELS[e])) for e in conds.EVENTS],
        "sentiment": [(s, str(SENTIMENT_LABELS[s])) for s in conds.CHOICES["sentiment"]],
    }
    if name == "channel":
        return channel_choices()
    return table.get(name)


def field_label(name: str) -> str:
    if name.startswith(conds.CUSTOM_PREFIX):
        return _("Custom field “%(key)s”") % {"key": name[len(conds.CUSTOM_PREFIX) :]}
    return str(FIELD_LABELS.get(name, name))


@dataclass
class Names:
    """The workspace's objects a rule names by id, loaded once per page (agents, teams, categories, …)."""

    agents: dict[int, str] = field(default_factory=dict)
    teams: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)
    organizations: dict[int, str] = field(default_factory=dict)
    flows: dict[int, str] = field(default_factory=dict)
    templates: dict[int, str] = field(default_factory=dict)
    macros: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, workspace_id: int) -> Names:
        zh = (get_language() or "").startswith("zh")
        agents = AgentProfile.objects.filter(workspace_id=workspace_id).select_related("user")
        return cls(
            agents={a.pk: a.name for a in agents},
            teams=dict(Team.objects.filter(workspace_id=workspace_id).values_list("pk", "name")),
            categories={
                pk: (name_zh if zh and name_zh else name)
                for pk, name, name_zh in Category.objects.filter(workspace_id=workspace_id).values_list(
                    "pk", "name", "name_zh"
                )
            },
            organizations=dict(
                CustomerOrganization.objects.filter(workspace_id=workspace_id).values_list("pk", "name")[:1000]
            ),
            flows=dict(ApprovalFlow.objects.filter(workspace_id=workspace_id).values_list("pk", "name")),
            templates=dict(ChainTemplate.objects.filter(workspace_id=workspace_id).values_list("pk", "name")),
            macros=dict(Macro.objects.filter(workspace_id=workspace_id).values_list("pk", "name")),
        )

    def for_id_field(self, name: str) -> dict[int, str]:
        return {
            "category": self.categories,
            "category_path": self.categories,
            "team": self.teams,
            "assignee": self.agents,
            "organization": self.organizations,
        }.get(name, {})


type Part = tuple[str, bool]  # a piece of a sentence, and whether people wrote it (shown as written, not translated)


def _comma() -> str:
    return "、" if (get_language() or "").startswith("zh") else ", "


def plain(parts: Iterable[Part]) -> str:
    return "".join(text for text, _user in parts)


def _ours(text: str) -> Part:
    return (text, False)


def _theirs(text: str) -> Part:
    return (text, True)


def value_parts(name: str, value: Any, names: Names) -> list[Part]:
    """One fact or condition value in words: a choice's label, an object's name, yes/no, a list joined."""
    if isinstance(value, list | tuple):
        out: list[Part] = []
        for i, v in enumerate(value):
            out += ([_ours(_comma())] if i else []) + value_parts(name, v, names)
        return out
    if value is None:
        return [_ours(_("(empty)"))]
    if isinstance(value, bool):
        return [_ours(_("Yes") if value else _("No"))]
    if (conds.kind_of(name) == conds.ID or name == "category_path") and isinstance(value, int):
        found = names.for_id_field(name).get(value)
        return [_theirs(found)] if found else [_ours(f"#{value}")]
    choices = enum_choices(name)
    if choices is not None and isinstance(value, str) and value in dict(choices):
        return [_ours(dict(choices)[value])]
    if name == "changes" and isinstance(value, str) and value in FIELD_LABELS:
        return [_ours(field_label(value))]
    if isinstance(value, int | float):
        return [_ours(f"{value:g}")]
    return [_theirs(str(value))]


def condition_parts(cond: Mapping[str, Any], names: Names) -> list[Part]:
    """ "Priority is Urgent": the field's label, the operator's words, the value."""
    name, op = str(cond.get("field", "")), str(cond.get("op", ""))
    label = field_label(name)
    head = [_theirs(label) if name.startswith(conds.CUSTOM_PREFIX) else _ours(label), _ours(" ")]
    head.append(_ours(str(OP_LABELS.get(op, op))))
    if op in ("is_set", "not_set", "changed"):
        return head
    return [*head, _ours(" "), *value_parts("category_path" if op == "under" else name, cond.get("value"), names)]


def conditions_parts(spec: Mapping[str, Any], names: Names) -> list[Part]:
    """The whole tree in one sentence; nested groups in parentheses."""
    return _tree_parts(spec, names, top=True) or [_ours(_("Every ticket"))]


def _tree_parts(node: Any, names: Names, *, top: bool = False) -> list[Part]:
    if not isinstance(node, Mapping):
        return []
    key = "all" if "all" in node else "any" if "any" in node else ""
    if not key:
        return condition_parts(node, names)
    items = [p for p in (_tree_parts(item, names) for item in node.get(key) or []) if p]
    if not items:
        return [] if top or key == "all" else [_ours(_("(never)"))]
    joiner = _ours(
        f" {pgettext('rule conditions', 'and')} " if key == "all" else f" {pgettext('rule conditions', 'or')} "
    )
    out: list[Part] = []
    for i, item in enumerate(items):
        out += ([joiner] if i else []) + item
    return out if top or len(items) == 1 else [_ours("("), *out, _ours(")")]


def _names_of(ids: Iterable[Any], table: Mapping[int, str]) -> list[Part]:
    out: list[Part] = []
    for i, pk in enumerate(ids):
        found = table.get(pk) if isinstance(pk, int) else None
        out += ([_ours(_comma())] if i else []) + [_theirs(found) if found else _ours(f"#{pk}")]
    return out


def _filled(template: str, **values: list[Part]) -> list[Part]:
    """A translated template with named slots ("Set %(field)s to %(value)s") filled with parts."""
    out: list[Part] = []
    rest = template
    while "%(" in rest:
        before, _sep, after = rest.partition("%(")
        key, _close, rest = after.partition(")s")
        out += [_ours(before), *values.get(key, [])]
    return [p for p in [*out, _ours(rest)] if p[0]]


def action_parts(action: Mapping[str, Any], names: Names) -> list[Part]:
    """One action in words ("Set Priority to Urgent", "Assign to 技术支持")."""
    kind = str(action.get("type", ""))
    label = _ours(str(ACTION_LABELS.get(kind, kind)))
    if kind == "set":
        name = str(action.get("field", ""))
        field_part = [_ours(field_label(name))]
        return _filled(
            _("Set %(field)s to %(value)s"), field=field_part, value=value_parts(name, action.get("value"), names)
        )
    if kind in ("add_tags", "remove_tags"):
        return [label, _ours(": "), _theirs(", ".join(str(t) for t in action.get("tags") or []))]
    if kind == "assign":
        return _filled(_("Assign to %(whom)s"), whom=_assignee_parts(action, names))
    if kind == "follow":
        return _filled(_("Add %(agent)s as a follower"), agent=_names_of([action.get("agent")], names.agents))
    if kind == "notify":
        return _filled(_("Notify %(whom)s"), whom=_notified_parts(action, names))
    if kind == "create_linked":
        return _filled(_("Create a linked ticket “%(subject)s”"), subject=[_theirs(str(action.get("subject", "")))])
    if kind == "appease":
        pool = action.get("pool")
        team = _names_of([pool], names.teams) if pool else [_ours(_("none"))]
        return _filled(_("Appease the customer (senior team: %(team)s)"), team=team)
    references = {"start_approval": ("flow", names.flows), "start_chain": ("template", names.templates)}
    if kind in references or kind == "apply_macro":
        key, table = references.get(kind, ("macro", names.macros))
        return [label, _ours(": "), *_names_of([action.get(key)], table)]
    if kind == "webhook" and action.get("label"):
        return [label, _ours(" ("), _theirs(str(action["label"])), _ours(")")]
    return [label]


def _notified_parts(action: Mapping[str, Any], names: Names) -> list[Part]:
    groups = [_names_of(action.get("agents") or [], names.agents), _names_of(action.get("teams") or [], names.teams)]
    if action.get("shared"):
        groups.append([_ours(_("everyone in the workspace"))])
    out: list[Part] = []
    for group in (g for g in groups if g):
        out += ([_ours(_comma())] if out else []) + group
    return out


def _assignee_parts(action: Mapping[str, Any], names: Names) -> list[Part]:
    if action.get("routing"):
        return [_ours(_("the routing engine"))]
    parts: list[Part] = []
    if action.get("agent") is not None:
        parts += _names_of([action["agent"]], names.agents)
    if action.get("team") is not None:
        parts += ([_ours(" / ")] if parts else []) + _names_of([action["team"]], names.teams)
    return parts or [_ours("—")]


def actions_parts(actions: Iterable[Any], names: Names) -> list[list[Part]]:
    return [action_parts(a, names) for a in actions if isinstance(a, Mapping)]
