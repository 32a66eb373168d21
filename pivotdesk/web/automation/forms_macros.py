"""The macro editor's form, posted as plain fields, turned into what `macros.macro_save` takes — and back from a
stored macro.

The macro's own fields are `name` (Chinese), `name_en`, `scope`, `team`, `category`, `shortcut` and `active`; its
actions are rows `a-<i>-type` and `a-<i>-<key>`, read exactly as the rule editor reads its action rows (the keys and
the conversion are `pivotdesk.web.automation.forms`'s). Row numbers need not be contiguous (a removed row leaves a
gap); rows are read in number order. `remove=a-<i>` leaves a row out, `add=action` appends an empty one. Values stay
the strings posted, so a refused form comes back exactly as it was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from django.http import QueryDict

from pivotdesk.automation.models import Macro, MacroScope
from pivotdesk.web.automation import forms

MAX_ROWS = 30  # beyond the services' limit on actions, so that they say how many are allowed
_ROW = re.compile(r"^a-(\d{1,3})-type$")


@dataclass
class MacroForm:
    """Everything on the macro editor, as typed."""

    name: str = ""
    name_en: str = ""
    scope: str = MacroScope.PERSONAL
    team: str = ""
    category: str = ""
    shortcut: str = ""
    active: bool = True
    actions: list[forms.ActionRow] = default(default_factory=list)


def _rows(post: QueryDict) -> list[int]:
    return sorted({int(m[1]) for key in post if (m := _ROW.match(key))})[:MAX_ROWS]


def _action_row(post: QueryDict, i: int) -> forms.ActionRow:
    kind = post.get(f"a-{i}-type", "")
    keys = forms.ACTION_KEYS.get(kind, ())
    values: dict[str, Any] = {
        key: post.getlist(f"a-{i}-{key}") if key in forms.MULTI else post.get(f"a-{i}-{key}", "") for key in keys
    }
    return forms.ActionRow(type=kind, values=values)


def form_from_post(post: QueryDict) -> MacroForm:
    """The editor's state from a POST (rows in order, the removed row left out, an added one appended)."""
    remove = post.get("remove", "")
    form = MacroForm(
        name=post.get("name", ""),
        name_en=post.get("name_en", ""),
        scope=post.get("scope", MacroScope.PERSONAL),
        team=post.get("team", ""),
        category=post.get("category", ""),
        shortcut=post.get("shortcut", ""),
        active=bool(post.get("active")),
        actions=[_action_row(post, i) for i in _rows(post) if remove != f"a-{i}"],
    )
    if post.get("add") == "action":
        form.actions.append(forms.ActionRow())
    return form


def form_from_macro(macro: Macro) -> MacroForm:
    """The editor's state for a stored macro: its fields, and its actions as rows."""
    return MacroForm(
        name=macro.name,
        name_en=macro.name_en,
        scope=macro.scope,
        team=str(macro.team_id or ""),
        category=str(macro.category_id or ""),
        shortcut=macro.shortcut,
        active=macro.active,
        actions=[forms.action_row_of(a) for a in macro.actions or [] if isinstance(a, dict)],
    )


def actions_of(form: MacroForm) -> list[dict[str, Any]]:
    """The rows with a type, as the action dicts the service validates (empty optional values left out)."""
    return [forms.action_of(row) for row in form.actions if row.type]
