"""The rule editor's form, posted as plain fields, turned into the data the rules service stores — and back.

Condition rows are `c-<i>-field`, `c-<i>-op`, `c-<i>-value` (repeated for a multiple choice), `c-<i>-key` (a custom
field's key); action rows are `a-<i>-type` and `a-<i>-<key>` for the keys of that type. Row numbers need not be
contiguous (a removed row leaves a gap); rows are read in number order. Values are kept as the strings posted, so a
refused form comes back exactly as it was typed; `conditions_of` and `actions_of` convert them to typed data (a value
that does not convert is passed on as typed, for the service to refuse with its own message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from django.http import QueryDict

from pivotdesk.automation.domain import conditions as conds
from pivotdesk.automation.models import RuleKind

MAX_ROWS = 60
SPLIT = re.compile(r"[,，、;；\n]+")
_ROW = re.compile(r"^([ca])-(\d{1,3})-(field|type)$")
NO_VALUE = frozenset({"is_set", "not_set", "changed"})
LIST_OPS = frozenset({"in", "not_in", "contains_any_words"})
CUSTOM = conds.CUSTOM_PREFIX
ID_ACTION_FIELDS = frozenset({"category", "team", "assignee"})
# The posted keys of each action type (multi-value ones in MULTI).
ACTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "set": ("field", "value"),
    "add_tags": ("tags",),
    "remove_tags": ("tags",),
    "assign": ("target",),
    "follow": ("agent",),
    "reply": ("zh", "en"),
    "note": ("text",),
    "notify": ("agents", "teams", "shared", "title", "text"),
    "webhook": ("label",),
    "create_linked": ("subject", "body", "team", "priority", "link"),
    "start_approval": ("flow",),
    "start_chain": ("template", "key"),
    "apply_macro": ("macro",),
    "appease": ("pool", "opening_zh", "opening_en"),
}
MULTI = frozenset({"agents", "teams"})
INT_KEYS = frozenset({"agent", "team", "pool", "flow", "template", "macro"})


@dataclass
class ConditionRow:
    """One condition as typed: the field, the operator and the value(s) as strings."""

    field: str = ""
    op: str = ""
    values: list[str] = default(default_factory=list)
    key: str = ""  # a custom field's key ("cf." + key)

    @property
    def name(self) -> str:
        return CUSTOM + self.key.strip() if self.field == CUSTOM else self.field


@dataclass
class ActionRow:
    """One action as typed: its type and its posted values (a list for the multiple choices)."""

    type: str = ""
    values: dict[str, Any] = default(default_factory=dict)


@dataclass
class RuleForm:
    """Everything on the editor, as the supervisor typed it."""

    name: str = ""
    description: str = ""
    kind: str = RuleKind.TRIGGER
    active: bool = True
    match: str = "all"
    conditions: list[ConditionRow] = default(default_factory=list)
    actions: list[ActionRow] = default(default_factory=list)
    kept_groups: list[int] = default(default_factory=list)  # positions of the rule's nested groups to keep


def words(value: str) -> list[str]:
    return [w.strip() for w in SPLIT.split(value or "") if w.strip()]


# --- from the post -----------------------------------------------------------------------------------------------


def _rows(post: QueryDict, prefix: str) -> list[int]:
    found = sorted({int(m[2]) for k in post if (m := _ROW.match(k)) and m[1] == prefix})
    return found[:MAX_ROWS]


def form_from_post(post: QueryDict) -> RuleForm:
    """The editor's state from a POST (rows in order, removed rows left out; no conversion yet)."""
    remove = post.get("remove", "")
    form = RuleForm(
        name=post.get("name", ""),
        description=post.get("description", ""),
        kind=post.get("kind", RuleKind.TRIGGER),
        active=bool(post.get("active")),
        match="any" if post.get("match") == "any" else "all",
        kept_groups=[int(g) for g in post.getlist("keep_group") if g.isdigit()],
    )
    for i in _rows(post, "c"):
        if remove != f"c-{i}":
            form.conditions.append(
                ConditionRow(
                    field=post.get(f"c-{i}-field", ""),
                    op=post.get(f"c-{i}-op", ""),
                    values=list(post.getlist(f"c-{i}-value")),
                    key=post.get(f"c-{i}-key", ""),
                )
            )
    for i in _rows(post, "a"):
        if remove != f"a-{i}":
            kind = post.get(f"a-{i}-type", "")
            keys = ACTION_KEYS.get(kind, ())
            values = {k: post.getlist(f"a-{i}-{k}") if k in MULTI else post.get(f"a-{i}-{k}", "") for k in keys}
            form.actions.append(ActionRow(type=kind, values=values))
    if post.get("add") == "condition":
        form.conditions.append(ConditionRow())
    if post.get("add") == "action":
        form.actions.append(ActionRow())
    return form


# --- to the service's data -----------------------------------------------------------------------------------------


def _int(text: str) -> int | str:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,18}", text) else text


def _number(text: str) -> int | float | str:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _scalar(kind: str | None, text: str) -> Any:
    if kind == conds.ID:
        return _int(text)
    if kind == conds.NUMBER:
        return _number(text)
    if kind == conds.BOOL:
        return {"true": True, "false": False}.get(text, text)
    return text.strip()


def _items(row: ConditionRow) -> list[str]:
    return [w for v in row.values for w in words(v)]


def condition_of(row: ConditionRow) -> dict[str, Any]:
    """One row as a condition dict (no "value" for the operators that take none)."""
    name, op = row.name, row.op
    kind = conds.kind_of(name)
    cond: dict[str, Any] = {"field": name, "op": op}
    first = row.values[0] if row.values else ""
    if op in NO_VALUE:
        return cond
    if op == "contains_any_words":
        cond["value"] = _items(row)
    elif op in ("in", "not_in"):
        cond["value"] = [_scalar(kind, v) for v in _items(row)]
    elif op == "under" or (op in ("contains", "not_contains") and name == "category_path"):
        cond["value"] = _int(first)
    elif op in ("gt", "gte", "lt", "lte"):
        cond["value"] = _number(first)
    elif op in ("changed_from", "changed_to") and not first.strip():
        cond["value"] = None
    elif op == "matches":
        cond["value"] = first
    else:
        cond["value"] = _scalar(None if kind == conds.CUSTOM else kind, first)
    return cond


def conditions_of(form: RuleForm, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The condition tree: the rows (their paths are `<match>.<i>`), then the stored rule's nested groups kept."""
    items: list[Any] = [condition_of(row) for row in form.conditions if row.field]
    groups = nested_groups(stored or {})
    items += [group for position, group in groups if position in form.kept_groups]
    return {form.match: items}


def nested_groups(spec: Mapping[str, Any]) -> list[tuple[int, Any]]:
    """The top-level items of a stored tree that are groups (the editor shows them in words and keeps them)."""
    key = "any" if "any" in spec else "all"
    return [(i, item) for i, item in enumerate(spec.get(key) or []) if isinstance(item, Mapping) and _is_group(item)]


def _is_group(node: Mapping[str, Any]) -> bool:
    return "all" in node or "any" in node


def action_of(row: ActionRow) -> dict[str, Any]:
    """One row as an action dict; empty optional values are left out."""
    v = row.values
    action: dict[str, Any] = {"type": row.type}
    if row.type == "set":
        name, value = str(v.get("field", "")), str(v.get("value", ""))
        action["field"] = name
        action["value"] = (_int(value) if value.strip() else None) if name in ID_ACTION_FIELDS else value
        return action
    if row.type == "assign":
        return action | _target(str(v.get("target", "")))
    for key, raw in v.items():
        value = _action_value(key, raw)
        if value not in (None, "", [], False):
            action[key] = value
    return action


def _action_value(key: str, raw: Any) -> Any:
    if key in MULTI:
        return [_int(str(x)) for x in raw if str(x).strip()]
    if key == "tags":
        return words(str(raw))
    if key == "shared":
        return bool(raw)
    if key in INT_KEYS:
        return _int(str(raw)) if str(raw).strip() else None
    return str(raw).strip()


def _target(target: str) -> dict[str, Any]:
    if target == "routing":
        return {"routing": True}
    kind, _sep, pk = target.partition(":")
    return {kind: _int(pk)} if kind in ("agent", "team") and pk else {}


def actions_of(form: RuleForm) -> list[dict[str, Any]]:
    return [action_of(row) for row in form.actions if row.type]


# --- from a stored rule ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def row_of(cond: Mapping[str, Any]) -> ConditionRow:
    name = str(cond.get("field", ""))
    value = cond.get("value")
    values = [_text(v) for v in value] if isinstance(value, list | tuple) else [_text(value)]
    if cond.get("op") == "contains_any_words":
        values = [", ".join(values)]
    if name.startswith(CUSTOM):
        return ConditionRow(field=CUSTOM, op=str(cond.get("op", "")), values=values, key=name[len(CUSTOM) :])
    return ConditionRow(field=name, op=str(cond.get("op", "")), values=values)


def action_row_of(action: Mapping[str, Any]) -> ActionRow:
    kind = str(action.get("type", ""))
    values: dict[str, Any] = {}
    for key in ACTION_KEYS.get(kind, ()):
        raw = action.get(key)
        if key in MULTI:
            values[key] = [str(x) for x in raw or []]
        elif key == "tags":
            values[key] = ", ".join(str(t) for t in raw or [])
        elif key == "shared":
            values[key] = "1" if raw else ""
        else:
            values[key] = _text(raw)
    if kind == "assign":
        values["target"] = _target_text(action)
    return ActionRow(type=kind, values=values)


def _target_text(action: Mapping[str, Any]) -> str:
    if action.get("routing"):
        return "routing"
    for key in ("agent", "team"):
        if action.get(key) is not None:
            return f"{key}:{action[key]}"
    return ""


def form_from_rule(*, name: str, description: str, kind: str, active: bool, conditions: Any, actions: Any) -> RuleForm:
    """The editor's state for a stored rule: its top-level conditions as rows, its nested groups kept."""
    spec = conditions if isinstance(conditions, Mapping) else {}
    if spec and not _is_group(spec):
        spec = {"all": [spec]}
    match = "any" if "any" in spec else "all"
    leaves = [c for c in spec.get(match) or [] if isinstance(c, Mapping) and not _is_group(c)]
    return RuleForm(
        name=name,
        description=description,
        kind=kind,
        active=active,
        match=match,
        conditions=[row_of(c) for c in leaves],
        actions=[action_row_of(a) for a in actions or [] if isinstance(a, Mapping)],
        kept_groups=[position for position, _group in nested_groups(spec)],
    )
