"""Automation on the agent's ticket page: macros (search, preview, apply), the approval panel (progress, history,
decide, resubmit, start), the chain the ticket belongs to, and the appeasement notice.

`ticket_automation_context` builds the panels for `ticket_page` in a few queries (one per panel, plus the names of
the people an approval mentions); the views below answer the panels' HTMX requests. Every change goes through the
automation services, which hold the permission gate; their refusals come back as translated 4xx answers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.automation.domain import approvals as approval_domain
from pivotdesk.automation.models import (
    Appeasement,
    AppeasementReason,
    Approval,
    ApprovalFlow,
    ApprovalStatus,
    Chain,
    Macro,
)
from pivotdesk.automation.services import approvals, chains, macros
from pivotdesk.common.errors import NotFound
from pivotdesk.common.time import now
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Ticket
from pivotdesk.web.automation.views import words
from pivotdesk.web.base import Desk, agent_view, int_or_none

SUGGESTED = 8  # macros shown before the agent types
FOUND = 20  # macros shown for a search
SPLIT = re.compile(r"[,，、;；\n]+")
STAGE_LABELS = {
    approval_domain.DONE: lambda: gettext("Done"),
    approval_domain.CURRENT: lambda: gettext("Current stage"),
    approval_domain.WAITING: lambda: gettext("Not reached yet"),
    approval_domain.STAGE_SENT_BACK: lambda: gettext("Sent back"),
    approval_domain.STAGE_CANCELLED: lambda: gettext("Cancelled"),
}
VERDICT_LABELS = {
    approval_domain.APPROVE: lambda: gettext("Approved"),
    approval_domain.REJECT: lambda: gettext("Rejected"),
    approval_domain.CHANGES: lambda: gettext("Changes requested"),
}
CHAIN_LABELS = {
    "waiting": lambda: gettext("Not opened yet"),
    "open": lambda: gettext("In progress"),
    "done": lambda: gettext("Done"),
    "cancelled": lambda: gettext("Cancelled"),
}


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _back(number: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:ticket", args=[number]))


def _changed(response: HttpResponse) -> HttpResponse:
    """Refresh the conversation, the properties and the timeline (the events `web/ticket/page.html` listens for)."""
    response["HX-Trigger"] = "conversation-changed, props-changed, timeline-changed"
    return response


def duration_words(value: dt.timedelta | None) -> str:
    """A waiting time or a stage's duration in the reader's language ("2 d 3 h", "1 h 5 min", "4 min")."""
    if value is None:
        return ""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": mins}
    return gettext("%(minutes)d min") % {"minutes": mins}


# --- macros --------------------------------------------------------------------------------------------------------


def macro_name(macro: Macro) -> str:
    """The macro's name in the reader's language: the Chinese `name`, or `name_en` (else `name`) in English."""
    if (get_language() or "").startswith("zh"):
        return macro.name
    return macro.name_en or macro.name


def _category_path(ticket: Ticket) -> set[int]:
    """The ticket's category and its parents (already loaded by `macros_for`: no query)."""
    out: set[int] = set()
    category = ticket.category if ticket.category_id else None
    while category is not None and len(out) < 10:
        out.add(category.pk)
        category = category.parent
    return out


def _macro_rows(desk: Desk, ticket: Ticket, query: str) -> list[dict[str, Any]]:
    found = macros.macros_for(agent=desk.agent, ticket=ticket, query=query, limit=FOUND if query else SUGGESTED)
    path = _category_path(ticket)
    return [
        {"macro": m, "name": macro_name(m), "suggested": m.category_id in path, "shortcut": m.shortcut} for m in found
    ]


def _macro(desk: Desk, macro_id: int) -> Macro:
    """A macro of the workspace, else not found (whether this agent may use it, the services decide: another's
    personal macro is not found there either)."""
    macro = Macro.objects.filter(workspace=desk.workspace, active=True, pk=int_or_none(macro_id) or 0).first()
    if macro is None:
        raise NotFound(gettext("No such macro."))
    return macro


def _change_rows(desk: Desk, changes: list[dict[str, Any]]) -> list[list[words.Part]]:
    if not changes:
        return []
    return words.actions_parts(changes, words.Names.load(desk.workspace.pk))


@require_GET
@agent_view
def macro_search(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The macros matching the search box (the ticket's suggestions first when it is empty)."""
    ticket = _ticket(desk, number)
    query = (request.GET.get("q") or "").strip()[:100]
    context = {"ticket": ticket, "macro_rows": _macro_rows(desk, ticket, query), "macro_query": query}
    return render(request, "web/ticket/_macro_list.html", context)


@require_GET
@agent_view
def macro_preview(request: HttpRequest, desk: Desk, number: int, macro_id: int) -> HttpResponse:
    """What the macro would do to this ticket: the reply (editable), the note, the changes in words."""
    ticket = _ticket(desk, number)
    macro = _macro(desk, macro_id)
    shown = macros.macro_preview(agent=desk.agent, macro=macro, ticket=ticket)
    has_reply = any(a.get("type") == "reply" for a in macro.actions or [])
    context = {
        "ticket": ticket,
        "macro": macro,
        "name": macro_name(macro),
        "preview": shown,
        "has_reply": has_reply,
        "change_rows": _change_rows(desk, shown.changes),
    }
    return render(request, "web/ticket/_macro_preview.html", context)


@require_POST
@agent_view
def macro_apply(request: HttpRequest, desk: Desk, number: int, macro_id: int) -> HttpResponse:
    """Apply the macro with the agent's edited reply (or without a reply); the page refreshes what changed."""
    ticket = _ticket(desk, number)
    macro = _macro(desk, macro_id)
    skip = request.POST.get("skip_reply") == "1"
    reply = request.POST.get("reply") if "reply" in request.POST else None
    results = macros.macro_apply(actor=desk.actor, macro=macro, ticket=ticket, reply=reply, skip_reply=skip)
    if not _htmx(request):
        return _back(number)
    failed = [r for r in results if not r.get("ok", True)]
    context = {"name": macro_name(macro), "failed": len(failed)}
    return _changed(render(request, "web/ticket/_macro_applied.html", context))


# --- approvals -----------------------------------------------------------------------------------------------------


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = AgentProfile.objects.filter(pk__in=ids).select_related("user")
    return {a.pk: a.name for a in rows}


def _people(state: approval_domain.ApprovalState, expected: frozenset[int]) -> set[int]:
    ids = set(expected)
    for record in state.history:
        for decision in record.decisions:
            ids.add(decision.approver)
            if decision.acting_for is not None:
                ids.add(decision.acting_for)
    return ids


def _decision_row(decision: approval_domain.Decision, names: dict[int, str]) -> dict[str, Any]:
    label = VERDICT_LABELS.get(decision.verdict)
    return {
        "verdict": decision.verdict,
        "label": label() if label else decision.verdict,
        "who": names.get(decision.approver, f"#{decision.approver}"),
        "for": names.get(decision.acting_for, f"#{decision.acting_for}") if decision.acting_for else "",
        "comment": decision.comment,
        "reason": decision.reason,
        "missing_items": list(decision.missing_items),
        "at": decision.at,
    }


def _history(state: approval_domain.ApprovalState, names: dict[int, str]) -> list[dict[str, Any]]:
    stage_names = {s.key: s.name for s in state.flow.stages}
    outcomes = dict(ApprovalStatus.choices)
    rows = []
    for record in state.history:
        decisions = record.decisions if record.ended_at is not None else state.decisions
        rows.append(
            {
                "stage": stage_names.get(record.stage_key, record.stage_key),
                "round": record.round,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "outcome": record.outcome,
                "outcome_label": str(outcomes.get(record.outcome, "")) if record.outcome else "",
                "duration": duration_words(record.duration),
                "reason": record.reason,
                "missing_items": list(record.missing_items),
                "provided_items": list(record.provided_items),
                "decisions": [_decision_row(d, names) for d in decisions],
            }
        )
    return rows


def _stage_rows(progress: approval_domain.Progress) -> list[dict[str, Any]]:
    rows = []
    for stage in progress.stages:
        label = STAGE_LABELS.get(stage.status)
        rows.append(
            {
                "key": stage.key,
                "name": stage.name,
                "status": stage.status,
                "label": label() if label else stage.status,
                "approvals": stage.approvals,
                "required": stage.required,
            }
        )
    return rows


def _approval_view(desk: Desk, approval: Approval) -> dict[str, Any]:
    """The panel's picture of one approval (one query: the names of the people it mentions)."""
    at = now()
    state = approval_domain.state_from_data(approval.state)
    progress = approval_domain.progress(state, at)
    names = _names(_people(state, progress.expected))
    is_open = approval.status in approvals.OPEN_STATUSES
    my_turn = progress.status == approval_domain.PENDING and desk.agent.pk in progress.expected
    return {
        "obj": approval,
        "flow_name": state.flow.name,
        "status": progress.status,
        "status_label": dict(ApprovalStatus.choices).get(progress.status, progress.status),
        "is_open": is_open,
        "sent_back": progress.status in approval_domain.SENT_BACK,
        "stages": _stage_rows(progress),
        "percent": progress.percent,
        "current": state.stage.name if progress.current_key else "",
        "waiting": duration_words(progress.waiting),
        "waiting_on": progress.waiting_on,
        "due_at": progress.due_at,
        "overdue": progress.overdue,
        "expected": sorted(names.get(pk, f"#{pk}") for pk in progress.expected),
        "history": _history(state, names),
        "my_turn": my_turn,
        "required_items": list(state.stage.required_items) if my_turn else [],
    }


def approval_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """The approval panel: the ticket's latest approval (one query, two with names), and the active flows to start
    one from when none is open and the agent may update tickets (one more query)."""
    approval = approvals.approval_of(ticket)
    may_update = can(desk.agent, Perm.TICKET_UPDATE)
    shown = _approval_view(desk, approval) if approval is not None else None
    is_open = shown is not None and shown["is_open"]
    flows: list[ApprovalFlow] = []
    if may_update and not is_open:
        flows = list(ApprovalFlow.objects.filter(workspace=desk.workspace, active=True).order_by("name", "pk"))
    return {"approval": shown, "may_update": may_update, "flows": flows, "ticket": ticket}


def _approval(desk: Desk, ticket: Ticket, approval_id: int) -> Approval:
    approval = Approval.objects.filter(
        pk=int_or_none(approval_id) or 0, ticket=ticket, workspace=desk.workspace
    ).first()
    if approval is None:
        raise NotFound(gettext("No such approval."))
    return approval


def _missing_items(request: HttpRequest) -> list[str]:
    ticked = [i.strip() for i in request.POST.getlist("missing_items") if i.strip()]
    typed = [w.strip() for w in SPLIT.split(request.POST.get("missing_other") or "") if w.strip()]
    return list(dict.fromkeys(ticked + typed))


def _approval_answer(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The panel again (with what the service changed), and the page told to refresh the rest."""
    if not _htmx(request):
        return _back(number)
    ticket = _ticket(desk, number)
    return _changed(render(request, "web/ticket/_approval.html", {"ap": approval_context(desk, ticket)}))


@require_POST
@agent_view
def approval_decide(request: HttpRequest, desk: Desk, number: int, approval_id: int) -> HttpResponse:
    """Approve, reject or request changes at the current stage (only an expected approver: the service decides)."""
    ticket = _ticket(desk, number)
    approval = _approval(desk, ticket, approval_id)
    approvals.approval_decide(
        actor=desk.actor,
        approval=approval,
        verdict=request.POST.get("verdict", ""),
        comment=request.POST.get("comment", "")[:4000],
        reason=request.POST.get("reason", "")[:4000],
        missing_items=_missing_items(request),
    )
    return _approval_answer(request, desk, number)


@require_POST
@agent_view
def approval_resubmit(request: HttpRequest, desk: Desk, number: int, approval_id: int) -> HttpResponse:
    """Resume a sent-back approval at the stage that sent it back."""
    ticket = _ticket(desk, number)
    approval = _approval(desk, ticket, approval_id)
    approvals.approval_resubmit(actor=desk.actor, approval=approval)
    return _approval_answer(request, desk, number)


@require_POST
@agent_view
def approval_start(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Start the chosen active flow on this ticket."""
    ticket = _ticket(desk, number)
    flow = ApprovalFlow.objects.filter(workspace=desk.workspace, pk=int_or_none(request.POST.get("flow")) or 0).first()
    if flow is None:
        raise NotFound(gettext("No such approval flow."))
    approvals.approval_start(actor=desk.actor, ticket=ticket, flow=flow)
    return _approval_answer(request, desk, number)


# --- chain, appeasement, the whole panel ---------------------------------------------------------------------------


def chain_context(ticket: Ticket) -> dict[str, Any] | None:
    """The chain the ticket is the parent of, or a stage of (one query, two more in `chain_view`)."""
    chain = (
        Chain.objects.filter(Q(parent=ticket) | Q(stages__ticket=ticket), workspace_id=ticket.workspace_id)
        .select_related("parent")
        .order_by("-created_at", "-pk")
        .first()
    )
    if chain is None:
        return None
    view = chains.chain_view(chain, now())
    for stage in view["stages"]:
        label = CHAIN_LABELS.get(stage["status"])
        stage["label"] = label() if label else stage["status"]
        stage["is_this"] = stage["ticket_id"] == ticket.pk
    view["is_parent"] = chain.parent_id == ticket.pk
    return view


def appeasement_context(ticket: Ticket) -> dict[str, Any] | None:
    """The appeasement notice: level, reasons in words, the empathetic opening (one query)."""
    row = Appeasement.objects.filter(ticket=ticket, workspace_id=ticket.workspace_id).first()
    if row is None:
        return None
    labels = dict(AppeasementReason.choices)
    reasons = [str(labels.get(r, r)) for r in row.reasons or []]
    return {
        "obj": row,
        "level": row.level,
        "reasons": reasons,
        "reasons_text": ("、" if (get_language() or "").startswith("zh") else ", ").join(reasons),
        "opening": row.opening,
        "outcome": row.get_outcome_display(),
    }


def ticket_automation_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """Everything the ticket page's automation panels need."""
    may_update = can(desk.agent, Perm.TICKET_UPDATE)
    return {
        "macro_rows": _macro_rows(desk, ticket, "") if may_update else [],
        "may_macro": may_update,
        "ap": approval_context(desk, ticket),
        "chain": chain_context(ticket),
        "appeasement": appeasement_context(ticket),
    }
