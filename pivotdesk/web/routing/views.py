"""Dispatch: the live agent board, the waiting queue, manual reassignment with a reason, routing policies with a
"what would happen" preview, declining a ticket, and the engineer's field view of an on-site ticket."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, assignable_q, require
from pivotdesk.accounts.selectors import access_agent, team_list
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.models import Tier
from pivotdesk.routing import selectors as routing_selectors
from pivotdesk.routing import services as routing_services
from pivotdesk.routing.domain import FACTORS, RELAXATION_LADDER, Weights, decide
from pivotdesk.routing.models import RoutingPolicy, Strategy
from pivotdesk.routing.services import pool, specs
from pivotdesk.routing.services.policies import policy_matches, preview_apply
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Category, Priority, Ticket
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.routing import explain

PREVIEW_TICKETS = 20
FLAGS = ("active", "require_language", "relax_enabled", "reroute_on_offline", "reroute_on_away")


def _supervisor(desk: Desk) -> None:
    require(desk.agent, Perm.ROUTING_MANAGE)


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _assignable(desk: Desk) -> list[AgentProfile]:
    agents = AgentProfile.objects.filter(assignable_q(), workspace=desk.workspace)
    return list(agents.select_related("user").order_by("user__display_name", "user__username"))


# ---- the dispatch board ------------------------------------------------------------------------------------


@agent_view
def dispatch(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The supervisor's dispatch page: agent board, waiting queue and the latest decisions (auto-refreshing)."""
    _supervisor(desk)
    team_id = int_or_none(request.GET.get("team"))
    return render(
        request,
        "web/routing/dispatch.html",
        {
            **_board_context(desk, team_id),
            **_queue_context(desk),
            "teams": list(team_list(workspace=desk.workspace)),
            "team_id": team_id,
            "decisions": routing_selectors.recent_decisions(workspace=desk.workspace),
        },
    )


def _board_context(desk: Desk, team_id: int | None) -> dict[str, Any]:
    return {"board": routing_selectors.board(workspace=desk.workspace, team_id=team_id), "team_id": team_id}


def _queue_context(desk: Desk) -> dict[str, Any]:
    return {
        "waiting": routing_selectors.queue(workspace=desk.workspace),
        "backlog": routing_selectors.unqueued_backlog(workspace=desk.workspace),
        "assignable": _assignable(desk),
        "now": now(),
    }


@agent_view
def dispatch_board(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The agent board alone (polled every few seconds)."""
    _supervisor(desk)
    return render(request, "web/routing/_board.html", _board_context(desk, int_or_none(request.GET.get("team"))))


@agent_view
def dispatch_queue(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The waiting queue alone (polled every few seconds)."""
    _supervisor(desk)
    return render(request, "web/routing/_queue.html", _queue_context(desk))


@require_POST
@agent_view
def backlog_route(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Send the unassigned tickets that never reached the queue through routing now."""
    _supervisor(desk)
    result = routing_services.backlog_route(actor=desk.actor, workspace_id=desk.workspace.pk)
    flash.success(
        request,
        _("Routed %(attempted)d ticket(s): %(assigned)d assigned, %(waiting)d waiting in the queue.")
        % {"attempted": result.attempted, "assigned": result.assigned, "waiting": result.waiting},
    )
    if result.unmatched:
        flash.warning(
            request,
            _("%(count)d ticket(s) match no active routing policy: assign them by hand or add a policy.")
            % {"count": result.unmatched},
        )
    return HttpResponseRedirect(reverse("web:dispatch"))


@require_POST
@agent_view
def reassign(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """A supervisor assigns a ticket by hand, with a reason (recorded as an override decision)."""
    _supervisor(desk)
    ticket = _ticket(desk, number)
    agent_id = int_or_none(request.POST.get("agent"))
    if agent_id is None:
        raise ValidationFailed(_("Choose an agent."))
    target = access_agent(workspace=desk.workspace, agent_id=agent_id)
    routing_services.ticket_override(
        ticket=ticket, actor=desk.actor, agent=target, reason=request.POST.get("reason", "")
    )
    message = _("#%(number)s assigned to %(agent)s.") % {"number": ticket.number, "agent": target.name}
    if getattr(request, "htmx", False):
        response = render(request, "web/routing/_queue.html", _queue_context(desk))
        response["HX-Trigger"] = "routing-changed"
        return response
    flash.success(request, message)
    next_url = request.POST.get("next_url", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("web:dispatch")
    return HttpResponseRedirect(next_url)


@require_POST
@agent_view
def decline(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The assignee gives the ticket back with a reason; routing finds someone else (or it waits)."""
    ticket = _ticket(desk, number)
    outcome = routing_services.ticket_decline(ticket=ticket, actor=desk.actor, reason=request.POST.get("reason", ""))
    if outcome.assigned_to is not None:
        flash.success(request, _("Declined: %(agent)s has the ticket now.") % {"agent": outcome.assigned_to.name})
    elif outcome.queued:
        flash.info(request, _("Declined: the ticket waits in the dispatch queue for another agent."))
    else:
        flash.info(request, _("Declined: the ticket is unassigned."))
    url = reverse("web:ticket", args=[ticket.number])
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


# ---- policies ----------------------------------------------------------------------------------------------


@agent_view
def policy_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's routing policies in the order they are tried."""
    _supervisor(desk)
    policies = list(routing_selectors.policy_list(workspace=desk.workspace))
    categories = {c.pk: c for c in Category.objects.filter(workspace=desk.workspace)}
    for policy in policies:
        policy.condition_chips = explain.condition_chips(policy.conditions or {}, categories)  # type: ignore[attr-defined]
    return render(request, "web/routing/policies.html", {"policies": policies})


def _form_fields(request: HttpRequest) -> dict[str, Any]:
    """Policy fields from the edit form (validated by the service)."""
    post = request.POST
    conditions = {
        "channels": post.getlist("channels"),
        "priorities": post.getlist("priorities"),
        "tiers": post.getlist("tiers"),
        "categories": post.getlist("categories"),
        "languages": post.get("languages", ""),
        "tags": post.get("tags", ""),
    }
    weights = {name: post.get(f"w_{name}", "0") or "0" for name in FACTORS}
    seniority = {t: post.get(f"sen_{t}") for t in Tier.values if post.get(f"sen_{t}")}
    fields: dict[str, Any] = {
        "name": post.get("name", ""),
        "position": post.get("position", "0") or "0",
        "conditions": conditions,
        "strategy": post.get("strategy", ""),
        "weights": weights,
        "seniority_by_tier": seniority,
        "max_distance_km": post.get("max_distance_km", ""),
        "team": post.get("team", ""),
        "overflow_team": post.get("overflow_team", ""),
        "skill_timeout_seconds": post.get("skill_timeout_seconds", ""),
        "batch_threshold": post.get("batch_threshold", ""),
    }
    for flag in FLAGS:
        fields[flag] = post.get(flag) == "on"
    return fields


def _values(policy: RoutingPolicy | None, posted: Any = None) -> dict[str, Any]:
    """The form's values: what was posted (after an error), else the policy's, else the defaults."""
    if posted is not None:
        return {
            "name": posted.get("name", ""),
            "position": posted.get("position", ""),
            "strategy": posted.get("strategy", ""),
            "team": int_or_none(posted.get("team")),
            "overflow_team": int_or_none(posted.get("overflow_team")),
            "skill_timeout_seconds": posted.get("skill_timeout_seconds", ""),
            "batch_threshold": posted.get("batch_threshold", ""),
            "max_distance_km": posted.get("max_distance_km", ""),
            "flags": {f: posted.get(f) == "on" for f in FLAGS},
            "weights": {n: posted.get(f"w_{n}", "") for n in FACTORS},
            "seniority": {t: posted.get(f"sen_{t}", "") for t in Tier.values},
            "channels": posted.getlist("channels"),
            "priorities": posted.getlist("priorities"),
            "tiers": posted.getlist("tiers"),
            "categories": [int_or_none(c) for c in posted.getlist("categories")],
            "languages": posted.get("languages", ""),
            "tags": posted.get("tags", ""),
        }
    p = policy or RoutingPolicy()
    c = p.conditions or {}
    return {
        "name": p.name,
        "position": p.position,
        "strategy": p.strategy,
        "team": p.team_id,
        "overflow_team": p.overflow_team_id,
        "skill_timeout_seconds": p.skill_timeout_seconds,
        "batch_threshold": p.batch_threshold,
        "max_distance_km": "" if p.max_distance_km is None else p.max_distance_km,
        "flags": {f: getattr(p, f) for f in FLAGS},
        "weights": {**Weights().as_dict(), **(p.weights or {})},
        "seniority": {t: (p.seniority_by_tier or {}).get(t, "") for t in Tier.values},
        "channels": c.get("channels", []),
        "priorities": c.get("priorities", []),
        "tiers": c.get("tiers", []),
        "categories": c.get("categories", []),
        "languages": ", ".join(c.get("languages", [])),
        "tags": ", ".join(c.get("tags", [])),
    }


def _edit_context(desk: Desk, policy: RoutingPolicy | None, posted: Any = None, **extra: Any) -> dict[str, Any]:
    values = _values(policy, posted)
    return {
        "policy": policy,
        "v": values,
        "weights": [(name, values["weights"].get(name, 0)) for name in FACTORS],
        "seniority": [(value, label, values["seniority"].get(value, "")) for value, label in Tier.choices],
        "flags": [
            ("active", _("Active"), values["flags"]["active"]),
            ("require_language", _("Require the ticket's language"), values["flags"]["require_language"]),
            ("relax_enabled", _("Relax requirements step by step after the timeout"), values["flags"]["relax_enabled"]),
            ("reroute_on_offline", _("Re-route when the agent goes offline"), values["flags"]["reroute_on_offline"]),
            ("reroute_on_away", _("Re-route when the agent goes away"), values["flags"]["reroute_on_away"]),
        ],
        "strategies": Strategy.choices,
        "channels": Channel.choices,
        "priorities": Priority.choices,
        "tiers": Tier.choices,
        "categories": list(Category.objects.filter(workspace=desk.workspace, active=True).select_related("parent")),
        "teams": list(team_list(workspace=desk.workspace)),
        "ladder": RELAXATION_LADDER,
        **extra,
    }


@agent_view
def policy_edit(request: HttpRequest, desk: Desk, policy_id: int | None = None) -> HttpResponse:
    """Create or edit a policy: conditions, strategy, weights, pool, timeout, overflow, re-routing flags."""
    _supervisor(desk)
    policy = routing_selectors.access_policy(workspace=desk.workspace, policy_id=policy_id) if policy_id else None
    if request.method == "POST":
        fields = _form_fields(request)
        try:
            if policy is None:
                policy = routing_services.policy_create(workspace=desk.workspace, actor=desk.actor, fields=fields)
            else:
                policy = routing_services.policy_update(policy=policy, actor=desk.actor, fields=fields)
        except ValidationFailed as exc:
            context = _edit_context(desk, policy, error=exc.message, details=exc.details, posted=request.POST)
            return render(request, "web/routing/policy_edit.html", context, status=422)
        flash.success(request, _("Policy saved."))
        return HttpResponseRedirect(reverse("web:routing_policy", args=[policy.pk]))
    return render(request, "web/routing/policy_edit.html", _edit_context(desk, policy))


@require_POST
@agent_view
def policy_delete(request: HttpRequest, desk: Desk, policy_id: int) -> HttpResponse:
    _supervisor(desk)
    policy = routing_selectors.access_policy(workspace=desk.workspace, policy_id=policy_id)
    routing_services.policy_delete(policy=policy, actor=desk.actor)
    flash.success(request, _("Policy deleted."))
    return HttpResponseRedirect(reverse("web:routing_policies"))


@agent_view
def policy_preview(request: HttpRequest, desk: Desk, policy_id: int) -> HttpResponse:
    """What would happen: the policy (as saved, or as posted from the form, unsaved) decided on the 20 most recent
    tickets, without writing anything — who would get each and why, next to who has it now."""
    _supervisor(desk)
    saved = routing_selectors.access_policy(workspace=desk.workspace, policy_id=policy_id)
    candidate = RoutingPolicy.objects.get(pk=saved.pk)
    if request.method == "POST":
        try:
            preview_apply(candidate, _form_fields(request))
        except ValidationFailed as exc:
            return render(request, "web/routing/_preview.html", {"error": exc.message}, status=422)
    rows = _preview_rows(desk, candidate)
    return render(request, "web/routing/_preview.html", {"rows": rows, "policy": candidate})


def _preview_rows(desk: Desk, policy: RoutingPolicy) -> list[dict[str, Any]]:
    at = now()
    tickets = list(
        Ticket.objects.filter(workspace=desk.workspace, merged_into__isnull=True)
        .select_related("requester__organization", "category", "assignee__user", specs.DEVICE_LINK)
        .order_by("-created_at")[:PREVIEW_TICKETS]
    )
    states = pool.agent_table(workspace_id=desk.workspace.pk, policy=policy, at=at)
    names = {s.id: s.name for s in states.agents}
    spec = specs.policy_spec(policy)
    rows = []
    for ticket in tickets:
        matches = policy_matches(policy, ticket)
        decision = decide(specs.ticket_spec(ticket, at=at), states, spec, now=at.timestamp()) if matches else None
        rows.append(
            {
                "ticket": ticket,
                "matches": matches,
                "decision": decision,
                "would": names.get(decision.agent_id) if decision and decision.agent_id else None,
                "same": bool(decision and decision.agent_id == ticket.assignee_id),
            }
        )
    return rows


# ---- the ticket side ---------------------------------------------------------------------------------------


@agent_view
def field_view(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The engineer's view of an on-site ticket: the device, its repair history, the parts it usually needs."""
    ticket = _ticket(desk, number)
    view = routing_selectors.field_view(ticket=ticket)
    decisions = routing_selectors.decisions_for(ticket=ticket, limit=5)
    return render(request, "web/routing/field.html", {"ticket": ticket, "field": view, "decisions": decisions})
