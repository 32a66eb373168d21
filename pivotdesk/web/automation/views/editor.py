"""The rule editor: conditions as rows (field, operator, a value widget that fits the field), actions as rows with
the fields of their type. Adding or removing a row, or changing a row's field or type, posts the form back and
re-renders it (HTMX swaps the form in place; without JavaScript the same buttons reload the page). Saving calls
`rule_save`; a refusal comes back with the service's message on top and each row's own message beside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.automation.domain import conditions as conds
from pivotdesk.automation.models import ApprovalFlow, ChainTemplate, Macro, Rule, RuleKind
from pivotdesk.automation.services import rules as rule_services
from pivotdesk.common.errors import DomainError
from pivotdesk.tickets.models import Priority
from pivotdesk.web.automation import forms
from pivotdesk.web.automation.views import words
from pivotdesk.web.automation.views.common import get_rule, manage, saved
from pivotdesk.web.base import Desk, agent_view

KIND_ORDER = (conds.ENUM, conds.ID, conds.LIST, conds.NUMBER, conds.BOOL, conds.TEXT, conds.CHANGES)
SELECT, MULTI, NUMBER, TEXT, WORDS, NONE = "select", "multi", "number", "text", "words", "none"
ACTION_FORM_TYPES = tuple(words.ACTION_LABELS)


def field_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The field select's option groups, by kind (custom fields last: their key is typed beside)."""
    groups = []
    for kind in KIND_ORDER:
        names = [n for n, k in conds.FIELD_KINDS.items() if k == kind]
        groups.append((str(words.KIND_LABELS[kind]), [(n, words.field_label(n)) for n in names]))
    groups.append((str(words.KIND_LABELS[conds.CUSTOM]), [(forms.CUSTOM, _("Custom field (type its key)"))]))
    return groups


def operators_for(name: str) -> list[tuple[str, str]]:
    kind = conds.kind_of(name)
    if kind is None:
        return [(op, str(label)) for op, label in words.OP_LABELS.items()]
    allowed = [
        op
        for op in conds.OPERATORS_BY_KIND[kind]
        if not (op == "under" and name != "category") and not (op in conds.CHANGE_OPS and name in conds.UNTRACKED)
    ]
    return [(op, str(words.OP_LABELS[op])) for op in allowed]


class Choices:
    """The workspace's agents, teams, categories, … for the selects, loaded once per page."""

    def __init__(self, desk: Desk) -> None:
        ws = desk.workspace
        self.names = words.Names.load(ws.pk)
        agents = AgentProfile.objects.filter(workspace=ws, is_active=True).select_related("user")
        self.agents = sorted(((str(a.pk), a.name) for a in agents), key=lambda x: x[1].casefold())
        self.teams = [(str(pk), name) for pk, name in Team.objects.filter(workspace=ws).values_list("pk", "name")]
        self.categories = sorted(
            ((str(pk), name) for pk, name in self.names.categories.items()), key=lambda x: x[1].casefold()
        )
        self.flows = [
            (str(pk), name) for pk, name in ApprovalFlow.objects.filter(workspace=ws).values_list("pk", "name")
        ]
        self.templates = [
            (str(pk), name) for pk, name in ChainTemplate.objects.filter(workspace=ws).values_list("pk", "name")
        ]
        self.macros = [
            (str(pk), name) for pk, name in Macro.objects.filter(workspace=ws, active=True).values_list("pk", "name")
        ]

    def for_id(self, name: str) -> list[tuple[str, str]]:
        if name in ("category", "category_path"):
            return self.categories
        if name == "team":
            return self.teams
        if name == "assignee":
            return self.agents
        return [(str(pk), label) for pk, label in self.names.organizations.items()]


def _value_widget(name: str, op: str, choices: Choices) -> tuple[str, list[tuple[str, str]], bool]:
    """(widget, options, user-named options) for a condition's value."""
    kind = conds.kind_of(name)
    if op in forms.NO_VALUE:
        return NONE, [], False
    if op == "under" or (name == "category_path" and op in ("contains", "not_contains")):
        return SELECT, choices.categories, True
    if op in ("gt", "gte", "lt", "lte"):
        return NUMBER, [], False
    if op == "contains_any_words":
        return WORDS, [], False
    enum = words.enum_choices(name)
    if kind == conds.ID:
        return (MULTI if op in ("in", "not_in") else SELECT), choices.for_id(name), True
    if enum is not None:
        return (MULTI if op in ("in", "not_in") else SELECT), enum, False
    if kind == conds.BOOL:
        return SELECT, [("true", _("Yes")), ("false", _("No"))], False
    if kind == conds.CHANGES:
        tracked = [n for n in conds.FIELD_KINDS if n not in conds.UNTRACKED]
        return SELECT, [(n, words.field_label(n)) for n in tracked], False
    if op in ("in", "not_in"):
        return WORDS, [], False
    return (NUMBER if kind == conds.NUMBER else TEXT), [], False


def condition_context(row: forms.ConditionRow, index: int, choices: Choices, error: str = "") -> dict[str, Any]:
    ops = operators_for(row.name) if row.field else operators_for("")
    op = row.op if row.op in dict(ops) else (ops[0][0] if ops else "")
    widget, options, user = _value_widget(row.name, op, choices) if row.field else (TEXT, [], False)
    return {
        "i": index,
        "row": row,
        "op": op,
        "ops": ops,
        "widget": widget,
        "options": options,
        "user_options": user,
        "value": row.values[0] if row.values else "",
        "empty_label": _empty_label(op, options),
        "error": error,
    }


def _empty_label(op: str, options: list[tuple[str, str]]) -> str:
    """The select's empty choice: "(empty)" where it means no value (changed from/to nothing), else a dash."""
    if any(value == "" for value, _label in options):
        return ""
    return _("(empty)") if op in ("changed_from", "changed_to") else "—"


def _set_options(name: str, choices: Choices) -> list[tuple[str, str]]:
    if name in forms.ID_ACTION_FIELDS:
        return choices.for_id(name)
    return words.enum_choices(name) or []


def action_context(row: forms.ActionRow, index: int, choices: Choices, error: str = "") -> dict[str, Any]:
    set_field = str(row.values.get("field", "")) or "status"
    return {
        "i": index,
        "i_text": str(index),
        "row": row,
        "v": row.values,
        "set_user": set_field in forms.ID_ACTION_FIELDS,
        "set_field": set_field,
        "set_options": _set_options(set_field, choices),
        "error": error,
    }


def _row_errors(details: Mapping[str, Any], prefix: str, present: list[bool]) -> list[str]:
    """Each row's message: the service's paths (`all.2.value`, `actions.1`) count only the rows it received."""
    out, position = [], 0
    for filled in present:
        key = f"{prefix}.{position}"
        found = [str(m) for path, m in details.items() if path == key or path.startswith(key + ".")] if filled else []
        out.append(" ".join(dict.fromkeys(found)))
        position += 1 if filled else 0
    return out


def _editor_page(
    request: HttpRequest,
    desk: Desk,
    form: forms.RuleForm,
    rule: Rule | None,
    *,
    error: DomainError | None = None,
) -> HttpResponse:
    choices = Choices(desk)
    details = error.details if error is not None else {}
    c_errors = _row_errors(details, form.match, [bool(r.field) for r in form.conditions])
    a_errors = _row_errors(details, "actions", [bool(r.type) for r in form.actions])
    groups = forms.nested_groups(rule.conditions or {}) if rule is not None else []
    context = {
        "section": "rules",
        "rule": rule,
        "form": form,
        "error": error.message if error is not None else "",
        "conditions": [condition_context(r, i, choices, c_errors[i]) for i, r in enumerate(form.conditions)],
        "actions": [action_context(r, i, choices, a_errors[i]) for i, r in enumerate(form.actions)],
        "groups": [(position, words.conditions_parts(g, choices.names)) for position, g in groups],
        "field_groups": field_groups(),
        "action_types": [(t, str(words.ACTION_LABELS[t])) for t in ACTION_FORM_TYPES],
        "kinds": RuleKind.choices,
        "choices": choices,
        "settable": [(n, words.field_label(n)) for n in words.SETTABLE_FIELDS],
        "priorities": Priority.choices,
        "placeholders": words.PLACEHOLDERS,
        "action": reverse("web:automation_rule", args=[rule.pk])
        if rule
        else reverse("web:automation_rule_new") + f"?kind={form.kind}",
    }
    status = error.status_code if error is not None else 200
    return render(request, "web/automation/rule_form.html", context, status=status)


def _initial(request: HttpRequest, rule: Rule | None) -> forms.RuleForm:
    if rule is not None:
        return forms.form_from_rule(
            name=rule.name,
            description=rule.description,
            kind=rule.kind,
            active=rule.active,
            conditions=rule.conditions,
            actions=rule.actions,
        )
    kind = RuleKind.TIME if request.GET.get("kind") == RuleKind.TIME else RuleKind.TRIGGER
    first = forms.ConditionRow(field="event", op="is", values=["ticket.created"]) if kind == RuleKind.TRIGGER else None
    return forms.RuleForm(kind=kind, conditions=[first or forms.ConditionRow()], actions=[forms.ActionRow()])


def _save(request: HttpRequest, desk: Desk, form: forms.RuleForm, rule: Rule | None) -> HttpResponse:
    try:
        rule = rule_services.rule_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=form.name,
            conditions=forms.conditions_of(form, rule.conditions if rule is not None else None),
            actions=forms.actions_of(form),
            kind=form.kind,
            description=form.description.strip(),
            active=form.active,
            rule=rule,
        )
    except DomainError as exc:
        return _editor_page(request, desk, form, rule, error=exc)
    return saved(request, reverse("web:automation_rules"))


@agent_view
def rule_edit(request: HttpRequest, desk: Desk, rule_id: int | None = None) -> HttpResponse:
    """GET: the editor; POST with `save`: save; any other POST (add/remove a row, a field or type changed): the
    form again with the change, nothing saved."""
    manage(desk)
    rule = get_rule(desk, rule_id) if rule_id is not None else None
    if request.method != "POST":
        return _editor_page(request, desk, _initial(request, rule), rule)
    form = forms.form_from_post(request.POST)
    if "save" in request.POST:
        return _save(request, desk, form, rule)
    return _editor_page(request, desk, form, rule)
