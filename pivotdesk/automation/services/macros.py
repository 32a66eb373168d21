"""Macros: named, bilingual bundles of actions an agent applies from the ticket page (a reply with placeholders,
field changes, tags), previewed before anything is sent. Personal macros are their owner's, team macros their
team's members', shared macros everyone's; supervisors keep team and shared ones. Usage is counted; the ticket
page suggests the macros of the ticket's category first, then the most used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, can
from pivotdesk.ai.services.placeholders import values_for
from pivotdesk.common.domain import placeholders
from pivotdesk.common.errors import NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Category, Ticket

from ..errors import AutomationErrorCode
from ..models import Macro, MacroScope
from . import actions as acts

MAX_NAME = 160
MACRO_ACTIONS = frozenset({"set", "add_tags", "remove_tags", "assign", "follow", "reply", "note"})


def _check(actions: Any) -> None:
    problems = acts.validate(actions)
    if not problems and isinstance(actions, list):
        kinds = {a.get("type") for a in actions}
        if not actions or not kinds <= MACRO_ACTIONS:
            problems = [acts.ActionError("", gettext("A macro replies, notes, sets fields, tags or assigns."))]
    if problems:
        raise ValidationFailed(
            problems[0].message,
            code=AutomationErrorCode.INVALID_ACTIONS,
            details={f"actions.{p.path}".rstrip("."): p.message for p in problems},
        )


def _may_keep(actor: Actor, scope: str, owner: AgentProfile | None, workspace_id: int) -> None:
    """Personal macros are their owner's; team and shared ones need AUTOMATION_MANAGE."""
    if scope == MacroScope.PERSONAL:
        authorize(actor, Perm.TICKET_UPDATE, workspace_id=workspace_id)
        if actor.kind in ("agent", "api") and (owner is None or actor.agent != owner):
            raise PermissionDenied(gettext("A personal macro belongs to its owner."), code="permission_denied")
        return
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=workspace_id)


def macro_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    actions: list[dict[str, Any]],
    name_en: str = "",
    scope: str = MacroScope.SHARED,
    team: Team | None = None,
    category: Category | None = None,
    shortcut: str = "",
    active: bool = True,
    macro: Macro | None = None,
) -> Macro:
    """Create or change a macro. A personal macro is the acting agent's own."""
    if scope not in MacroScope.values:
        raise ValidationFailed(gettext("Unknown macro scope."), code=AutomationErrorCode.INVALID_VALUE)
    owner = macro.owner if macro is not None else (actor.agent if scope == MacroScope.PERSONAL else None)
    _may_keep(actor, scope, owner, workspace.pk)
    name = (name or "").strip()[:MAX_NAME]
    if not name:
        raise ValidationFailed(gettext("Give the macro a name."), code=AutomationErrorCode.INVALID_VALUE)
    if scope == MacroScope.TEAM and (team is None or team.workspace_id != workspace.pk):
        raise ValidationFailed(gettext("Choose the team of a team macro."), code=AutomationErrorCode.INVALID_VALUE)
    if category is not None and category.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("Unknown category."), code=AutomationErrorCode.INVALID_VALUE)
    _check(actions)
    values = {
        "name": name,
        "name_en": (name_en or "").strip()[:MAX_NAME],
        "scope": scope,
        "owner": owner if scope == MacroScope.PERSONAL else None,
        "team": team if scope == MacroScope.TEAM else None,
        "category": category,
        "actions": actions,
        "shortcut": (shortcut or "").strip()[:16],
        "active": active,
    }
    if macro is None:
        return Macro.objects.create(workspace=workspace, **values)
    if macro.workspace_id != workspace.pk:
        raise NotFound(gettext("No such macro."), code=AutomationErrorCode.NOT_FOUND)
    for key, value in values.items():
        setattr(macro, key, value)
    macro.save()
    return macro


def macro_delete(*, actor: Actor, macro: Macro) -> None:
    _may_keep(actor, macro.scope, macro.owner, macro.workspace_id)
    macro.delete()


def visible_q(agent: AgentProfile) -> Q:
    """The macros an agent may use: shared, their teams', their own."""
    return Q(workspace_id=agent.workspace_id, active=True) & (
        Q(scope=MacroScope.SHARED)
        | Q(scope=MacroScope.TEAM, team__members=agent)
        | Q(scope=MacroScope.PERSONAL, owner=agent)
    )


def macros_for(*, agent: AgentProfile, ticket: Ticket | None = None, query: str = "", limit: int = 50) -> list[Macro]:
    """The agent's macros, searched by name (either language) or shortcut; with a ticket, the ones of its category
    first (then the most used) — the ticket page's suggestions."""
    rows = Macro.objects.filter(visible_q(agent)).distinct()
    query = (query or "").strip()
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(name_en__icontains=query) | Q(shortcut__iexact=query))
    found = list(rows.order_by("-usage_count", "name")[: limit * 2])
    if ticket is not None and ticket.category_id:
        path = _category_path(ticket)
        found.sort(key=lambda m: 0 if m.category_id in path else 1)
    return found[:limit]


def _category_path(ticket: Ticket) -> set[int]:
    out: set[int] = set()
    category = ticket.category
    while category is not None and len(out) < 10:
        out.add(category.pk)
        category = category.parent
    return out


def _visible(agent: AgentProfile, macro: Macro) -> bool:
    return Macro.objects.filter(visible_q(agent), pk=macro.pk).exists()


@dataclass(frozen=True)
class MacroPreview:
    reply: str
    note: str
    changes: list[dict[str, Any]]


def macro_preview(*, agent: AgentProfile, macro: Macro, ticket: Ticket) -> MacroPreview:
    """What applying the macro would do to this ticket: the reply and note with placeholders filled, the changes."""
    if not _visible(agent, macro) or ticket.workspace_id != agent.workspace_id:
        raise NotFound(gettext("No such macro."), code=AutomationErrorCode.NOT_FOUND)
    values = values_for(ticket, {"agent.name": agent.name})
    reply = note = ""
    changes: list[dict[str, Any]] = []
    for action in macro.actions or []:
        if action.get("type") == "reply":
            reply = acts.reply_text(action, ticket, values)
        elif action.get("type") == "note":
            note = placeholders.render(str(action.get("text") or ""), values)
        else:
            changes.append(dict(action))
    return MacroPreview(reply=reply, note=note, changes=changes)


def macro_apply(
    *, actor: Actor, macro: Macro, ticket: Ticket, reply: str | None = None, skip_reply: bool = False
) -> list[dict[str, Any]]:
    """Apply a macro as the agent (every change through the ticket services, on the timeline as theirs). `reply`
    replaces the macro's reply text with the agent's edited version; `skip_reply` leaves it out."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    agent = actor.agent
    hidden = agent is not None and not _visible(agent, macro)  # a person sees their own, team and shared macros
    if hidden or ticket.workspace_id != macro.workspace_id:
        raise NotFound(gettext("No such macro."), code=AutomationErrorCode.NOT_FOUND)
    steps: list[Mapping[str, Any]] = []
    for action in macro.actions or []:
        if action.get("type") != "reply" or (not skip_reply and reply is None):
            steps.append(action)
        elif not skip_reply and reply is not None and reply.strip():
            steps.append({"type": "reply", "zh": reply, "en": reply})  # the agent's edited text, as sent
    if any(a.get("type") == "reply" for a in steps):
        authorize(actor, Perm.TICKET_REPLY_PUBLIC, workspace_id=ticket.workspace_id)
    ctx = acts.Context(actor=actor, values=values_for(ticket, {"agent.name": agent.name if agent else ""}))
    results = acts.execute(ticket, steps, ctx)
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=now())
    return results


def may_keep_shared(agent: AgentProfile | None) -> bool:
    return can(agent, Perm.AUTOMATION_MANAGE)
