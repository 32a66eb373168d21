"""Approval flow definitions: saving a flow (every stage checked, readable errors per stage) and resolving a stage's
approvers (people, a team, a role, the requester's manager) to the active agents of the workspace.

A stage spec: {"key", "name", "approvers": {"agents": [ids], "team": id, "role": "supervisor"|"admin"|"agent",
"manager": bool}, "rule": "any"|"all"|"n_of_m", "n": int, "sla_minutes": int | None, "required_items": [str]}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.tickets.models import Ticket

from ..domain import approvals as domain
from ..errors import AutomationErrorCode
from ..models import ApprovalFlow

ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.AGENT)
MAX_ITEMS = 30
MAX_ITEM = 200
MAX_SLA_MINUTES = 60 * 24 * 366


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- checking a stage spec ---------------------------------------------------------------------------------------


def _agent_errors(workspace_id: int, agents: object) -> tuple[list[int], list[str]]:
    if not isinstance(agents, list) or not all(_is_id(a) for a in agents):
        return [], [gettext("Approvers must be a list of agent ids.")]
    ids = list(dict.fromkeys(agents))
    found = set(
        AgentProfile.objects.filter(workspace_id=workspace_id, is_active=True, pk__in=ids).values_list("pk", flat=True)
    )
    unknown = [str(i) for i in ids if i not in found]
    if unknown:
        return ids, [gettext("No active agent of this workspace has the id %(ids)s.") % {"ids": ", ".join(unknown)}]
    return ids, []


def _team_errors(workspace_id: int, team: object) -> list[str]:
    if team is None:
        return []
    if not _is_id(team) or not Team.objects.filter(workspace_id=workspace_id, pk=team).exists():
        return [gettext("No team of this workspace has the id %(id)s.") % {"id": team}]
    return []


def _clean_approvers(workspace_id: int, raw: object) -> tuple[dict[str, Any], list[str]]:
    approvers: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    agents, errors = _agent_errors(workspace_id, approvers.get("agents") or [])
    team = approvers.get("team")
    errors += _team_errors(workspace_id, team)
    role = str(approvers.get("role") or "")
    if role and role not in ROLES:
        errors.append(gettext("Unknown role “%(role)s”: use supervisor, admin or agent.") % {"role": role})
    manager = bool(approvers.get("manager"))
    if not (agents or team is not None or role or manager):
        errors.append(gettext("Name at least one approver: people, a team, a role or the requester's manager."))
    return {"agents": agents, "team": team, "role": role, "manager": manager}, errors


def _rule_errors(rule: str, n: object, agents: list[int], only_agents: bool) -> list[str]:
    if rule not in domain.RULES:
        return [gettext("Unknown rule “%(rule)s”: use any, all or n_of_m.") % {"rule": rule}]
    if rule != domain.N_OF_M:
        return []
    if not _is_id(n) or n < 1:
        return [gettext("“N of M” needs N, a whole number of at least 1.")]
    if only_agents and n > len(agents):
        return [gettext("N (%(n)s) is more than the %(count)d approvers named.") % {"n": n, "count": len(agents)}]
    return []


def _sla_errors(sla: object) -> list[str]:
    if sla is None or (_is_id(sla) and 1 <= sla <= MAX_SLA_MINUTES):
        return []
    return [gettext("The SLA is a number of minutes between 1 and %(max)d.") % {"max": MAX_SLA_MINUTES}]


def _clean_items(raw: object) -> tuple[list[str], list[str]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        return [], [gettext("Required items must be a list of texts.")]
    items = list(dict.fromkeys(i.strip() for i in raw if i.strip()))
    if len(items) > MAX_ITEMS or any(len(i) > MAX_ITEM for i in items):
        return items, [
            gettext("At most %(count)d required items of %(length)d characters each.")
            % {"count": MAX_ITEMS, "length": MAX_ITEM}
        ]
    return items, []


def _clean_stage(workspace_id: int, spec: object) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(spec, dict):
        return {}, [gettext("A stage must be an object with a key, a name and its approvers.")]
    key, name = str(spec.get("key") or "").strip(), str(spec.get("name") or "").strip()
    errors = [] if 0 < len(key) <= 64 else [gettext("Every stage needs a key of at most 64 characters.")]
    if not 0 < len(name) <= 160:
        errors.append(gettext("Every stage needs a name of at most 160 characters."))
    approvers, approver_errors = _clean_approvers(workspace_id, spec.get("approvers"))
    rule, n = str(spec.get("rule") or domain.ANY), spec.get("n", 1)
    only_agents = approvers["team"] is None and not approvers["role"] and not approvers["manager"]
    items, item_errors = _clean_items(spec.get("required_items"))
    errors += approver_errors + _rule_errors(rule, n, approvers["agents"], only_agents)
    errors += _sla_errors(spec.get("sla_minutes")) + item_errors
    stage = {
        "key": key,
        "name": name,
        "approvers": approvers,
        "rule": rule,
        "n": n if rule == domain.N_OF_M else 1,
        "sla_minutes": spec.get("sla_minutes"),
        "required_items": items,
    }
    return stage, errors


def clean_stages(workspace_id: int, stages: object) -> list[dict[str, Any]]:
    """The stage specs, checked and normalised; ValidationFailed lists every problem of every stage
    (`details["stages"]`: {"<index>": [messages]})."""
    if not isinstance(stages, list) or not stages:
        raise ValidationFailed(
            gettext("An approval flow needs at least one stage."),
            code=AutomationErrorCode.INVALID_VALUE,
            details={"stages": "required"},
        )
    if len(stages) > domain.MAX_STAGES:
        raise ValidationFailed(
            gettext("An approval flow has at most %(max)d stages.") % {"max": domain.MAX_STAGES},
            code=AutomationErrorCode.INVALID_VALUE,
            details={"stages": "too_many"},
        )
    cleaned, problems, seen = [], {}, set()
    for index, spec in enumerate(stages):
        stage, errors = _clean_stage(workspace_id, spec)
        if stage.get("key") and stage["key"] in seen:
            errors.append(gettext("Two stages share the key “%(stage)s”.") % {"stage": stage["key"]})
        seen.add(stage.get("key"))
        cleaned.append(stage)
        if errors:
            problems[str(index)] = errors
    if problems:
        summary = "; ".join(
            gettext("stage %(number)d: %(problems)s") % {"number": int(i) + 1, "problems": " ".join(errs)}
            for i, errs in problems.items()
        )
        raise ValidationFailed(
            gettext("Check the stages of the flow: %(summary)s") % {"summary": summary},
            code=AutomationErrorCode.INVALID_VALUE,
            details={"stages": problems},
        )
    return cleaned


# --- saving ------------------------------------------------------------------------------------------------------


def flow_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    stages: list[dict[str, Any]],
    description: str = "",
    active: bool = True,
    flow: ApprovalFlow | None = None,
) -> ApprovalFlow:
    """Create an approval flow, or edit `flow` (its `version` goes up; running approvals keep their snapshot)."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=workspace.pk)
    if flow is not None and flow.workspace_id != workspace.pk:
        raise NotFound(gettext("No such approval flow."), code=AutomationErrorCode.NOT_FOUND)
    name = (name or "").strip()
    if not 0 < len(name) <= 160:
        raise ValidationFailed(
            gettext("Give the flow a name of at most 160 characters."),
            code=AutomationErrorCode.INVALID_VALUE,
            details={"name": "invalid"},
        )
    cleaned = clean_stages(workspace.pk, stages)
    try:
        with transaction.atomic():
            if flow is None:
                return ApprovalFlow.objects.create(
                    workspace=workspace, name=name, description=description or "", stages=cleaned, active=active
                )
            flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
            flow.name, flow.description, flow.stages, flow.active = name, description or "", cleaned, active
            flow.version += 1
            flow.save(update_fields=["name", "description", "stages", "active", "version", "updated_at"])
            return flow
    except IntegrityError as exc:
        raise ValidationFailed(
            gettext("Another approval flow is already called “%(name)s”.") % {"name": name},
            code=AutomationErrorCode.DUPLICATE_NAME,
            details={"name": "duplicate"},
        ) from exc


# --- resolving approvers -----------------------------------------------------------------------------------------


def _manager(ticket: Ticket) -> int | None:
    """The lead of the ticket's team, else of the assignee's first team (by name)."""
    team = ticket.team if ticket.team_id is not None else None
    if team is None and ticket.assignee_id is not None:
        team = Team.objects.filter(members__pk=ticket.assignee_id).order_by("name", "pk").first()
    lead = team.lead if team is not None else None
    return lead.pk if lead is not None and lead.is_active and lead.workspace_id == ticket.workspace_id else None


def resolve_approvers(spec: Mapping[str, Any], ticket: Ticket) -> frozenset[int]:
    """The active agents of the ticket's workspace a stage's approvers name: listed agents ∪ the team's members ∪
    agents with the role ∪ (manager) the lead of the ticket's team, else of the assignee's first team."""
    active = AgentProfile.objects.filter(workspace_id=ticket.workspace_id, is_active=True)
    ids = set(active.filter(pk__in=[a for a in spec.get("agents") or [] if _is_id(a)]).values_list("pk", flat=True))
    if _is_id(spec.get("team")):
        ids |= set(
            active.filter(teams__pk=spec["team"], teams__workspace_id=ticket.workspace_id).values_list("pk", flat=True)
        )
    if spec.get("role") in ROLES:
        ids |= set(active.filter(role=spec["role"]).values_list("pk", flat=True))
    if spec.get("manager"):
        lead = _manager(ticket)
        if lead is not None:
            ids.add(lead)
    return frozenset(ids)
