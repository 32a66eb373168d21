"""The macro screens: the list (the reader's own, their teams' and the shared macros, searched by name or shortcut)
and the editor (bilingual name, scope, team, category, shortcut, and the actions a macro may hold as rows).

Who may do what is the macro services' rule (`macros.macro_save` / `macro_delete`): a personal macro is its owner's
(with TICKET_UPDATE), team and shared macros need AUTOMATION_MANAGE. The screens offer only what the service would
accept (the scopes, the edit links, the delete button), and every change still goes through the service, whose
refusal comes back on the form with its message. Adding or removing an action row, or changing a row's type, posts
the form back and re-renders it (HTMX swaps the form in place; without JavaScript the same buttons reload the page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.automation.errors import AutomationErrorCode
from pivotdesk.automation.models import Macro, MacroScope
from pivotdesk.automation.services import macros as macro_services
from pivotdesk.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.tickets.models import Category, Priority
from pivotdesk.web.automation import forms, forms_macros
from pivotdesk.web.automation.views import words
from pivotdesk.web.automation.views.common import saved
from pivotdesk.web.automation.views.editor import Choices, action_context
from pivotdesk.web.base import Desk, agent_view, int_or_none

MACRO_ACTION_TYPES = tuple(t for t in words.ACTION_LABELS if t in macro_services.MACRO_ACTIONS)
PLACEHOLDERS = (*words.PLACEHOLDERS, "{{ agent.name }}")
_PLACEHOLDER = re.compile(r"(\{\{.*?\}\})")
EXCERPT = 80


# --- who may do what (the services' rules, asked before offering a link or a choice) ------------------------------


def _uses(desk: Desk) -> None:
    """The macro screens are for those who apply macros (TICKET_UPDATE): agents, supervisors, admins."""
    require(desk.agent, Perm.TICKET_UPDATE)


def _manages(agent: AgentProfile) -> bool:
    return can(agent, Perm.AUTOMATION_MANAGE)


def may_save(agent: AgentProfile, macro: Macro) -> bool:
    """Whether `macro_save` / `macro_delete` would accept this person on this macro (see `macros._may_keep`)."""
    if macro.scope == MacroScope.PERSONAL:
        return can(agent, Perm.TICKET_UPDATE) and macro.owner_id == agent.pk
    return _manages(agent)


def scope_choices(agent: AgentProfile, macro: Macro | None) -> list[tuple[str, str]]:
    """The scopes this person may save the macro as (a stored macro keeps its owner: a shared one cannot become
    someone's personal macro)."""
    out = []
    if can(agent, Perm.TICKET_UPDATE) and (macro is None or macro.owner_id == agent.pk):
        out.append((str(MacroScope.PERSONAL), str(MacroScope.PERSONAL.label)))
    if _manages(agent):
        out += [
            (str(MacroScope.TEAM), str(MacroScope.TEAM.label)),
            (str(MacroScope.SHARED), str(MacroScope.SHARED.label)),
        ]
    return out


def _visible(agent: AgentProfile) -> Q:
    """The macros listed to this person, switched off or not: their own, their teams' (every team's for those who
    keep team macros), the shared ones. Other people's personal macros never."""
    teams = Q(scope=MacroScope.TEAM) if _manages(agent) else Q(scope=MacroScope.TEAM, team__members=agent)
    return Q(workspace_id=agent.workspace_id) & (
        Q(scope=MacroScope.SHARED) | teams | Q(scope=MacroScope.PERSONAL, owner=agent)
    )


def get_macro(desk: Desk, macro_id: Any) -> Macro:
    """A macro this person can see in the desk's workspace, or 404 (another workspace's or another agent's personal
    macro is not told apart from none)."""
    macro = (
        Macro.objects.filter(_visible(desk.agent), workspace=desk.workspace, pk=int_or_none(macro_id) or 0)
        .distinct()
        .first()
    )
    if macro is None:
        raise NotFound(_("Not found."), code=AutomationErrorCode.NOT_FOUND)
    return macro


# --- the list ------------------------------------------------------------------------------------------------------


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _excerpt(action: Mapping[str, Any]) -> str:
    """The start of a reply (in the reader's language, else the other) or of a note; "" for other actions."""
    first, second = ("zh", "en") if _zh() else ("en", "zh")
    if action.get("type") == "reply":
        text = str(action.get(first) or action.get(second) or "")
    else:
        text = str(action.get("text") or "") if action.get("type") == "note" else ""
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def macro_actions_parts(actions: Any, names: words.Names) -> list[list[words.Part]]:
    """The macro's actions in words, the reply and the note with the start of their text (as written)."""
    out = []
    for action in actions or []:
        if not isinstance(action, Mapping):
            continue
        parts = words.action_parts(action, names)
        excerpt = _excerpt(action)
        if excerpt:
            parts = [*parts, (": ", False), (excerpt, True)]
        out.append(parts)
    return out


def _macro_row(macro: Macro, agent: AgentProfile, names: words.Names) -> dict[str, Any]:
    return {
        "macro": macro,
        "team": names.teams.get(macro.team_id or 0, ""),
        "category": names.categories.get(macro.category_id or 0, ""),
        "actions": macro_actions_parts(macro.actions, names),
        "editable": may_save(agent, macro),
    }


@agent_view
def macro_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Three sections: mine (personal), my teams' and the shared macros; `q` searches names and shortcuts."""
    _uses(desk)
    agent = desk.agent
    query = request.GET.get("q", "").strip()[:160]
    rows = Macro.objects.filter(_visible(agent)).distinct()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(name_en__icontains=query) | Q(shortcut__icontains=query))
    found = list(rows.order_by("name", "pk"))
    names = words.Names.load(desk.workspace.pk)
    manages = _manages(agent)
    titles = {
        MacroScope.PERSONAL: pgettext("macro scope", "Mine"),
        MacroScope.TEAM: _("All teams'") if manages else _("My teams'"),
        MacroScope.SHARED: _("Shared"),
    }
    sections = [
        {
            "scope": str(scope),
            "title": title,
            "rows": [_macro_row(m, agent, names) for m in found if m.scope == scope],
            "may_add": dict(scope_choices(agent, None)).get(str(scope)) is not None,
        }
        for scope, title in titles.items()
    ]
    context = {"section": "macros", "sections": sections, "query": query, "may_manage": manages}
    return render(request, "web/automation/macros.html", context)


# --- the editor ----------------------------------------------------------------------------------------------------


def _preview(text: str) -> list[tuple[str, bool]]:
    """The text in pieces, the placeholders marked (shown as they are: they are filled in on the ticket)."""
    return [(piece, bool(_PLACEHOLDER.fullmatch(piece))) for piece in _PLACEHOLDER.split(text) if piece]


def _row_context(row: forms.ActionRow, index: int, choices: Choices, error: str) -> dict[str, Any]:
    context = action_context(row, index, choices, error)
    if row.type == "reply":
        texts = [(_("Chinese"), str(row.values.get("zh", ""))), (_("English"), str(row.values.get("en", "")))]
        context["preview"] = [(label, _preview(text)) for label, text in texts if text.strip()]
    return context


def _row_errors(details: Mapping[str, Any], rows: list[forms.ActionRow]) -> list[str]:
    """Each row's message: the service's paths (`actions.1`) count only the rows with a type (the ones it got)."""
    out, position = [], 0
    for row in rows:
        found = []
        if row.type:
            key = f"actions.{position}"
            found = [str(m) for path, m in details.items() if path == key or path.startswith(key + ".")]
            position += 1
        out.append(" ".join(dict.fromkeys(found)))
    return out


def _status(error: DomainError | None) -> int:
    if error is None:
        return 200
    return 403 if isinstance(error, PermissionDenied) else 400


def _editor_page(
    request: HttpRequest,
    desk: Desk,
    form: forms_macros.MacroForm,
    macro: Macro | None,
    *,
    error: DomainError | None = None,
) -> HttpResponse:
    choices = Choices(desk)
    details = error.details if error is not None else {}
    row_errors = _row_errors(details, form.actions)
    scopes = scope_choices(desk.agent, macro)
    context = {
        "section": "macros",
        "macro": macro,
        "form": form,
        "error": error.message if error is not None else "",
        "actions": [_row_context(r, i, choices, row_errors[i]) for i, r in enumerate(form.actions)],
        "action_types": [(t, str(words.ACTION_LABELS[t])) for t in MACRO_ACTION_TYPES],
        "choices": choices,
        "scopes": scopes,
        "team_scope": any(v == MacroScope.TEAM for v, _label in scopes),
        "settable": [(n, words.field_label(n)) for n in words.SETTABLE_FIELDS],
        "priorities": Priority.choices,
        "placeholders": PLACEHOLDERS,
        "may_delete": macro is not None and may_save(desk.agent, macro),
        "may_manage": _manages(desk.agent),
        "action": reverse("web:automation_macro", args=[macro.pk]) if macro else reverse("web:automation_macro_new"),
    }
    return render(request, "web/automation/macro_form.html", context, status=_status(error))


def _initial(request: HttpRequest, desk: Desk, macro: Macro | None) -> forms_macros.MacroForm:
    if macro is not None:
        return forms_macros.form_from_macro(macro)
    scopes = dict(scope_choices(desk.agent, None))
    asked = request.GET.get("scope", "")
    scope = asked if asked in scopes else next(iter(scopes))
    return forms_macros.MacroForm(scope=scope, actions=[forms.ActionRow(type="reply")])


def _team(desk: Desk, value: str) -> Team | None:
    """The team chosen, of this workspace (None when none is: the service asks for one)."""
    return Team.objects.filter(workspace=desk.workspace, pk=int_or_none(value) or 0).first() if value else None


def _category(desk: Desk, value: str) -> Category | None:
    """The category chosen, of this workspace; a value that names none is refused rather than dropped."""
    if not value.strip():
        return None
    found = Category.objects.filter(workspace=desk.workspace, pk=int_or_none(value) or 0).first()
    if found is None:
        raise ValidationFailed(_("Unknown category."), code=AutomationErrorCode.INVALID_VALUE)
    return found


def _save(request: HttpRequest, desk: Desk, form: forms_macros.MacroForm, macro: Macro | None) -> HttpResponse:
    try:
        team = _team(desk, form.team) if form.scope == MacroScope.TEAM else None
        category = _category(desk, form.category)
        macro_services.macro_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=form.name,
            name_en=form.name_en,
            actions=forms_macros.actions_of(form),
            scope=form.scope,
            team=team,
            category=category,
            shortcut=form.shortcut,
            active=form.active,
            macro=macro,
        )
    except NotFound:
        raise
    except DomainError as exc:
        return _editor_page(request, desk, form, macro, error=exc)
    return saved(request, reverse("web:automation_macros"))


@agent_view
def macro_edit(request: HttpRequest, desk: Desk, macro_id: int | None = None) -> HttpResponse:
    """GET: the editor; POST with `save`: save; any other POST (add/remove a row, a type changed): the form again
    with the change, nothing saved. Only a macro this person may save opens (403 otherwise)."""
    _uses(desk)
    macro = get_macro(desk, macro_id) if macro_id is not None else None
    if macro is not None and not may_save(desk.agent, macro):
        raise PermissionDenied(_("You may not change this macro."), code="permission_denied")
    if not scope_choices(desk.agent, macro):
        raise PermissionDenied(_("You may not change this macro."), code="permission_denied")
    if request.method != "POST":
        return _editor_page(request, desk, _initial(request, desk, macro), macro)
    form = forms_macros.form_from_post(request.POST)
    if "save" in request.POST:
        return _save(request, desk, form, macro)
    return _editor_page(request, desk, form, macro)


@require_POST
@agent_view
def macro_delete(request: HttpRequest, desk: Desk, macro_id: int) -> HttpResponse:
    _uses(desk)
    macro = get_macro(desk, macro_id)
    name = macro.name
    macro_services.macro_delete(actor=desk.actor, macro=macro)
    return saved(request, reverse("web:automation_macros"), _("“%(name)s” is deleted.") % {"name": name})
