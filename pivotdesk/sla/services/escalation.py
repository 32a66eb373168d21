"""Escalation actions: validating a level's action list, and running it on a ticket (through the tickets services,
as the system actor "SLA", so every change is on the timeline)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from pivotdesk.accounts.models import AgentProfile, Role, Team
from pivotdesk.common.errors import DomainError, ValidationFailed
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.tickets.models import PRIORITY_RANK, Priority, Ticket
from pivotdesk.tickets.services import ticket_update

log = logging.getLogger(__name__)

ACTION_TYPES = ("notify", "reassign", "raise_priority", "add_follower", "add_tag")
NOTIFY_TARGETS = ("assignee", "team_lead", "agents", "supervisors")
PRIORITY_ORDER = sorted(PRIORITY_RANK, key=lambda p: PRIORITY_RANK[p])


def parse_actions(actions: Any, *, workspace_id: int) -> list[dict[str, Any]]:
    """Validate a level's actions (see EscalationLevel); agent, team ids must belong to the workspace. Returns the
    cleaned list; raises ValidationFailed with a readable message for the first problem."""
    if not isinstance(actions, list):
        raise ValidationFailed(
            gettext("Escalation actions must be a list."),
            code=SlaErrorCode.INVALID_ACTION,
            details={"actions": "a list"},
        )
    cleaned: list[dict[str, Any]] = []
    for i, action in enumerate(actions):
        where = f"actions[{i}]"
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            raise ValidationFailed(
                gettext("%(where)s: the type must be one of %(choices)s.")
                % {"where": where, "choices": ", ".join(ACTION_TYPES)},
                code=SlaErrorCode.INVALID_ACTION,
                details={where: "unknown type"},
            )
        kind = action["type"]
        if kind == "notify":
            to = action.get("to")
            if to not in NOTIFY_TARGETS:
                raise ValidationFailed(
                    gettext("%(where)s: notify “to” must be one of %(choices)s.")
                    % {"where": where, "choices": ", ".join(NOTIFY_TARGETS)},
                    code=SlaErrorCode.INVALID_ACTION,
                )
            item: dict[str, Any] = {"type": kind, "to": to}
            if to == "agents":
                item["agents"] = _agent_ids(action.get("agents"), workspace_id, where)
            cleaned.append(item)
        elif kind == "reassign":
            if action.get("agent") is not None:
                cleaned.append({"type": kind, "agent": _agent_ids([action["agent"]], workspace_id, where)[0]})
            elif action.get("team") is not None:
                cleaned.append({"type": kind, "team": _team_id(action["team"], workspace_id, where)})
            else:
                raise ValidationFailed(
                    gettext("%(where)s: reassign needs an agent or a team.") % {"where": where},
                    code=SlaErrorCode.INVALID_ACTION,
                )
        elif kind == "raise_priority":
            to = action.get("to") or ""
            if to and to not in Priority.values:
                raise ValidationFailed(
                    gettext("%(where)s: the priority must be one of %(choices)s.")
                    % {"where": where, "choices": ", ".join(Priority.values)},
                    code=SlaErrorCode.INVALID_ACTION,
                )
            cleaned.append({"type": kind, "to": to} if to else {"type": kind})
        elif kind == "add_follower":
            cleaned.append({"type": kind, "agent": _agent_ids([action.get("agent")], workspace_id, where)[0]})
        else:
            tag = str(action.get("tag") or "").strip().lower()
            if not tag or len(tag) > 64:
                raise ValidationFailed(
                    gettext("%(where)s: adding a tag needs a tag of 1–64 characters.") % {"where": where},
                    code=SlaErrorCode.INVALID_ACTION,
                )
            cleaned.append({"type": kind, "tag": tag})
    return cleaned


def _agent_ids(values: Any, workspace_id: int, where: str) -> list[int]:
    if not isinstance(values, list) or not values:
        raise ValidationFailed(
            gettext("%(where)s: name at least one agent (by id).") % {"where": where}, code=SlaErrorCode.INVALID_ACTION
        )
    try:
        ids = [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            gettext("%(where)s: agents are given by id.") % {"where": where}, code=SlaErrorCode.INVALID_ACTION
        ) from exc
    found = set(AgentProfile.objects.filter(workspace_id=workspace_id, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            gettext("%(where)s: unknown agent(s) %(ids)s.") % {"where": where, "ids": ", ".join(map(str, missing))},
            code=SlaErrorCode.INVALID_ACTION,
        )
    return ids


def _team_id(value: Any, workspace_id: int, where: str) -> int:
    try:
        team_id = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            gettext("%(where)s: a team is given by id.") % {"where": where}, code=SlaErrorCode.INVALID_ACTION
        ) from exc
    if not Team.objects.filter(workspace_id=workspace_id, pk=team_id).exists():
        raise ValidationFailed(
            gettext("%(where)s: unknown team %(id)s.") % {"where": where, "id": team_id},
            code=SlaErrorCode.INVALID_ACTION,
        )
    return team_id


@dataclass(frozen=True)
class Recipient:
    """An agent to notify and why ("assignee", "team lead", "supervisor", "named")."""

    agent: AgentProfile
    role: str


def default_recipients(ticket: Ticket) -> list[Recipient]:
    """Who hears of a warning or breach: the assignee, else the team lead."""
    if ticket.assignee is not None and ticket.assignee.is_active:
        return [Recipient(ticket.assignee, "assignee")]
    lead = ticket.team.lead if ticket.team is not None else None
    if lead is not None and lead.is_active:
        return [Recipient(lead, "team lead")]
    return []


def notify_recipients(ticket: Ticket, action: dict[str, Any]) -> list[Recipient]:
    """The agents a notify action reaches (active ones only; de-duplicated)."""
    to = action["to"]
    out: list[Recipient] = []
    if to == "assignee" and ticket.assignee is not None:
        out = [Recipient(ticket.assignee, "assignee")]
    elif to == "team_lead" and ticket.team is not None and ticket.team.lead is not None:
        out = [Recipient(ticket.team.lead, "team lead")]
    elif to == "agents":
        agents = AgentProfile.objects.filter(workspace_id=ticket.workspace_id, pk__in=action.get("agents") or [])
        out = [Recipient(a, "named") for a in agents.select_related("user").order_by("pk")]
    elif to == "supervisors":
        supervisors = AgentProfile.objects.filter(workspace_id=ticket.workspace_id, role=Role.SUPERVISOR)
        out = [Recipient(a, "supervisor") for a in supervisors.select_related("user").order_by("pk")]
    seen: set[int] = set()
    unique: list[Recipient] = []
    for r in out:
        if r.agent.is_active and r.agent.pk not in seen:
            seen.add(r.agent.pk)
            unique.append(r)
    return unique


def raised_priority(current: str, action: dict[str, Any]) -> str | None:
    """The priority after a raise action, or None when it would not raise (never lowers)."""
    target = action.get("to") or ""
    if not target:
        index = PRIORITY_ORDER.index(Priority(current))
        if index + 1 >= len(PRIORITY_ORDER):
            return None
        target = PRIORITY_ORDER[index + 1]
    if PRIORITY_RANK[Priority(target)] <= PRIORITY_RANK[Priority(current)]:
        return None
    return str(target)


Step = dict[str, str]
"""What an action did, as data the agent UI can put in the reader's language: {"do": "priority", "old": "high",
"new": "urgent"}; `step_text` gives the English sentence kept for logs and the API."""


# What each kind of step says; English as stored (logs, the API), the agent UI translates the same text.
STEP_TEXTS: dict[str, str] = {
    "notified": gettext_noop("notified {agent} ({role})"),
    "priority": gettext_noop("priority {old} → {new}"),
    "reassigned": gettext_noop("reassigned to {agent}"),
    "moved": gettext_noop("moved to team {team}"),
    "follower": gettext_noop("added follower {agent}"),
    "tagged": gettext_noop("tagged {tag}"),
}


def step_text(step: Step, *, translate: Callable[[str], str] = str, **fields: str) -> str:
    """ "priority high → urgent", "notified 李伟 (assignee)", … : the step's text filled with its fields (a field
    missing from the step reads as empty). English by default; the UI passes gettext as `translate` and the fields
    in the reader's language (a role, a priority's label)."""
    do = str(step.get("do"))
    template = STEP_TEXTS.get(do)
    if template is None:
        return do
    return translate(template).format_map(defaultdict(str, {**step, **fields}))


def run_ticket_action(ticket: Ticket, action: dict[str, Any], actor: Any) -> Step | None:
    """Run one non-notify action through the tickets services; returns what changed as a step
    ({"do": "priority", "old": "high", "new": "urgent"}) or None when nothing needed changing. Raises DomainError on
    a refused change."""
    kind = action["type"]
    current = Ticket.objects.select_related("team", "assignee").get(pk=ticket.pk)
    if kind == "raise_priority":
        new = raised_priority(current.priority, action)
        if new is None:
            return None
        old = current.priority
        ticket_update(ticket=current, actor=actor, changes={"priority": new})
        return {"do": "priority", "old": str(old), "new": new}
    if kind == "reassign" and "agent" in action:
        agent = AgentProfile.objects.select_related("user").get(pk=action["agent"])
        if current.assignee_id == agent.pk:
            return None
        ticket_update(ticket=current, actor=actor, changes={"assignee": agent})
        return {"do": "reassigned", "agent": agent.name}
    if kind == "reassign":
        team = Team.objects.get(pk=action["team"])
        if current.team_id == team.pk:
            return None
        changes: dict[str, Any] = {"team": team}
        if current.assignee_id is not None and not team.members.filter(pk=current.assignee_id).exists():
            changes["assignee"] = None
        ticket_update(ticket=current, actor=actor, changes=changes)
        return {"do": "moved", "team": team.name}
    if kind == "add_follower":
        agent = AgentProfile.objects.select_related("user").get(pk=action["agent"])
        followers = list(current.followers.values_list("pk", flat=True))
        if agent.pk in followers:
            return None
        ticket_update(ticket=current, actor=actor, changes={"followers": [*followers, agent.pk]})
        return {"do": "follower", "agent": agent.name}
    if kind == "add_tag":
        if current.tags.filter(name=action["tag"]).exists():
            return None
        ticket_update(ticket=current, actor=actor, changes={"add_tags": [action["tag"]]})
        return {"do": "tagged", "tag": str(action["tag"])}
    raise ValidationFailed(
        gettext("Unknown escalation action “%(kind)s”.") % {"kind": kind}, code=SlaErrorCode.INVALID_ACTION
    )


def run_safely(ticket: Ticket, action: dict[str, Any], actor: Any) -> tuple[Step | None, str]:
    """Run one action in a savepoint: (step or None, error). A refused change (closed ticket, inactive agent) or a
    vanished agent/team is recorded as the error, never raised: the other actions still run."""
    try:
        with transaction.atomic():
            return run_ticket_action(ticket, action, actor), ""
    except DomainError as exc:
        return None, exc.message
    except (AgentProfile.DoesNotExist, Team.DoesNotExist):
        return None, f"{action['type']}: the agent or team no longer exists"
