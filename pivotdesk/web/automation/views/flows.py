"""Approval flows: the list (each flow's stages in order, with their rule and SLA, and how many approvals run) and
the editor (stages as rows: name, key, approvers, rule, SLA in hours, required items), saved through
`approval_flows.flow_save`. Adding, removing or moving a row posts the form back and re-renders it (HTMX swaps the
form in place; without JavaScript the same buttons reload the page). A refusal comes back with the service's
message on top and each stage's own messages beside its row. There is no delete: the service has none; a flow is
switched off with its "Active" box."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, Role, Team
from pivotdesk.automation.errors import AutomationErrorCode
from pivotdesk.automation.models import Approval, ApprovalFlow, ApprovalStatus
from pivotdesk.automation.services import approval_flows as flow_services
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.web.automation import forms_flows as forms
from pivotdesk.web.automation.views.common import manage, saved
from pivotdesk.web.base import Desk, agent_view, int_or_none

RUNNING = (ApprovalStatus.PENDING, ApprovalStatus.CHANGES_REQUESTED)
REFUSED = 400


def get_flow(desk: Desk, flow_id: Any) -> ApprovalFlow:
    """A flow of the desk's workspace, or 404 (another workspace's flow is not told apart from none)."""
    flow = ApprovalFlow.objects.filter(pk=int_or_none(flow_id) or 0, workspace=desk.workspace).first()
    if flow is None:
        raise NotFound(_("Not found."), code=AutomationErrorCode.NOT_FOUND)
    return flow


def rule_choices() -> list[tuple[str, str]]:
    return [("any", _("Any one approver")), ("all", _("All approvers")), ("n_of_m", _("N of them"))]


def role_choices() -> list[tuple[str, str]]:
    return [(str(role.value), str(role.label)) for role in flow_services.ROLES]


def _approvers(stage: Mapping[str, Any]) -> Mapping[str, Any]:
    approvers = stage.get("approvers")
    return approvers if isinstance(approvers, Mapping) else {}


def rule_label(stage: Mapping[str, Any]) -> str:
    """The stage's rule in words: any one, all, "2 of 3" (M known when only people are named), "2 approvers"."""
    rule = stage.get("rule") or "any"
    if rule == "all":
        return _("all")
    if rule != "n_of_m":
        return _("any one")
    approvers = _approvers(stage)
    people = approvers.get("agents") or []
    only_people = approvers.get("team") is None and not approvers.get("role") and not approvers.get("manager")
    n = stage.get("n") or 1
    if only_people and people:
        return _("%(n)s of %(m)s") % {"n": n, "m": len(people)}
    return _("%(n)s approvers") % {"n": n}


def hours_label(minutes: Any) -> str:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        return _("no SLA")
    return _("%(hours)s h") % {"hours": forms.minutes_to_hours(minutes)}


def _approver_parts(stage: Mapping[str, Any], agents: Mapping[int, str], teams: Mapping[int, str]) -> list[Any]:
    """(text, user-named) pieces saying who approves."""
    approvers = _approvers(stage)
    parts: list[tuple[str, bool]] = []
    people = [agents.get(a, f"#{a}") for a in approvers.get("agents") or [] if isinstance(a, int)]
    if people:
        parts.append(("、".join(people), True))
    if approvers.get("team") is not None:
        parts.append((teams.get(approvers["team"], f"#{approvers['team']}"), True))
    if approvers.get("role"):
        parts.append((str(Role(approvers["role"]).label) if approvers["role"] in Role.values else "?", False))
    if approvers.get("manager"):
        parts.append((_("the requester's manager"), False))
    return parts


@agent_view
def flow_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    ws = desk.workspace
    flows = list(ApprovalFlow.objects.filter(workspace=ws).order_by("name", "pk"))
    running = dict(
        Approval.objects.filter(workspace=ws, flow__in=flows, status__in=RUNNING)
        .values("flow")
        .annotate(n=Count("pk"))
        .values_list("flow", "n")
    )
    agents = {a.pk: a.name for a in AgentProfile.objects.filter(workspace=ws).select_related("user")}
    teams = dict(Team.objects.filter(workspace=ws).values_list("pk", "name"))
    rows = []
    for flow in flows:
        stages = [s for s in flow.stages or [] if isinstance(s, Mapping)]
        rows.append(
            {
                "flow": flow,
                "names": [str(s.get("name") or s.get("key") or "") for s in stages],
                "stages": [
                    {
                        "name": str(s.get("name") or s.get("key") or ""),
                        "rule": rule_label(s),
                        "sla": hours_label(s.get("sla_minutes")),
                        "approvers": _approver_parts(s, agents, teams),
                    }
                    for s in stages
                ],
                "running": running.get(flow.pk, 0),
            }
        )
    return render(request, "web/automation/flows.html", {"section": "flows", "rows": rows})


# --- the editor ----------------------------------------------------------------------------------------------------


def _stage_errors(error: ValidationFailed | Conflict | None, present: list[bool]) -> list[str]:
    """Each row's messages: the service's `details["stages"]` counts only the stages it received."""
    problems = error.details.get("stages") if error is not None else None
    out, position = [], 0
    for filled in present:
        found = problems.get(str(position)) if isinstance(problems, Mapping) and filled else None
        out.append(" ".join(str(m) for m in found) if isinstance(found, list) else "")
        position += 1 if filled else 0
    return out


def _editor_page(
    request: HttpRequest,
    desk: Desk,
    form: forms.FlowForm,
    flow: ApprovalFlow | None,
    *,
    error: ValidationFailed | Conflict | None = None,
) -> HttpResponse:
    ws = desk.workspace
    agents = AgentProfile.objects.filter(workspace=ws, is_active=True).select_related("user")
    errors = _stage_errors(error, [row.filled for row in form.stages])
    last = len(form.stages) - 1
    context = {
        "section": "flows",
        "flow": flow,
        "form": form,
        "error": error.message if error is not None else "",
        "name_error": error is not None and "name" in error.details,
        "rows": [
            {"i": i, "row": row, "error": errors[i], "up": i > 0, "down": i < last} for i, row in enumerate(form.stages)
        ],
        "agents": sorted(((str(a.pk), a.name) for a in agents), key=lambda x: x[1].casefold()),
        "teams": [(str(pk), name) for pk, name in Team.objects.filter(workspace=ws).values_list("pk", "name")],
        "roles": role_choices(),
        "rules": rule_choices(),
        "action": reverse("web:automation_flow", args=[flow.pk]) if flow else reverse("web:automation_flow_new"),
    }
    return render(request, "web/automation/flow_form.html", context, status=REFUSED if error else 200)


def _save(request: HttpRequest, desk: Desk, form: forms.FlowForm, flow: ApprovalFlow | None) -> HttpResponse:
    try:
        flow_services.flow_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=form.name,
            stages=forms.flow_stages_of(form),
            description=form.description.strip(),
            active=form.active,
            flow=flow,
        )
    except (ValidationFailed, Conflict) as exc:
        return _editor_page(request, desk, form, flow, error=exc)
    return saved(request, reverse("web:automation_flows"))


@agent_view
def flow_edit(request: HttpRequest, desk: Desk, flow_id: int | None = None) -> HttpResponse:
    """GET: the editor (a stored flow's stages as rows); POST with `save`: save; any other POST (a row added,
    removed or moved): the form again with the change, nothing saved."""
    manage(desk)
    flow = get_flow(desk, flow_id) if flow_id is not None else None
    if request.method != "POST":
        if flow is None:
            return _editor_page(request, desk, forms.new_flow_form(), None)
        initial = forms.flow_form_of(
            name=flow.name, description=flow.description, active=flow.active, stages=flow.stages
        )
        return _editor_page(request, desk, initial, flow)
    form = forms.flow_form_from_post(request.POST)
    if "save" in request.POST:
        return _save(request, desk, form, flow)
    return _editor_page(request, desk, form, flow)
