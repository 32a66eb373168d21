"""Workforce notifications: a published roster, a request to answer or decide, a decision. Stored as a kind and its
facts; rendered in the reader's language when shown or sent (rule 14) by the renderers registered here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.notifications.models import Notification
from pivotdesk.notifications.render import Rendered, register
from pivotdesk.notifications.services import notify
from pivotdesk.workforce.models import RequestKind, RequestStatus, Roster, ShiftRequest

SYSTEM = Actor.system("workforce")
KIND_LABELS: dict[str, Any] = {
    RequestKind.SWAP: _("shift swap"),
    RequestKind.PICKUP: _("open shift pick-up"),
    RequestKind.LEAVE: _("leave"),
    RequestKind.OVERTIME: _("overtime"),
}


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _kind(data: dict[str, Any]) -> str:
    label = KIND_LABELS.get(str(data.get("kind")))
    return str(label) if label is not None else str(data.get("kind") or "")


def _render_request(n: Notification) -> Rendered | None:
    data: dict[str, Any] = n.data or {}
    status, who = data.get("status"), str(data.get("requester") or "")
    values = {"kind": _kind(data), "who": who, "by": str(data.get("by") or ""), "reason": str(data.get("reason") or "")}
    if status == RequestStatus.AWAITING_PEER:
        title = gettext("%(who)s asks you to swap shifts") % values
    elif status == RequestStatus.PENDING and data.get("to") == "approver":
        title = gettext("%(who)s asks for %(kind)s: waiting for your decision") % values
    elif status == RequestStatus.PENDING:
        title = gettext("Your colleague accepted the swap: it now waits for approval") % values
    elif status == RequestStatus.APPROVED:
        title = gettext("Your request for %(kind)s was approved by %(by)s") % values
    elif status == RequestStatus.REJECTED:
        title = gettext("Your request for %(kind)s was rejected by %(by)s") % values
    elif status == RequestStatus.DECLINED:
        title = gettext("Your colleague declined the shift swap") % values
    elif status == RequestStatus.CANCELLED:
        title = gettext("%(who)s withdrew their request for %(kind)s") % values
    else:
        return None
    body = gettext("Reason: %(reason)s") % values if values["reason"] else ""
    return Rendered(title=title, body=body)


def _render_roster(n: Notification) -> Rendered | None:
    data: dict[str, Any] = n.data or {}
    if not data.get("start_date"):
        return None
    values = {
        "start": data["start_date"],
        "end": data.get("end_date", ""),
        "shifts": data.get("shifts", 0),
        "version": data.get("version", 1),
    }
    return Rendered(
        title=gettext("Your schedule for %(start)s – %(end)s is published") % values,
        body=gettext("%(shifts)s shifts (roster version %(version)s). See “My schedule”.") % values,
    )


register("workforce.request", _render_request)
register("workforce.roster", _render_roster)


def _send(request: ShiftRequest, recipient: AgentProfile, to: str, actor: Actor) -> None:
    notify(
        workspace=recipient.workspace,
        actor=SYSTEM,
        recipient=recipient,
        kind="workforce.request",
        title=f"{request.kind} {request.status}",
        url=_url("web:workforce_requests"),
        dedupe_key=f"workforce.request:{request.pk}:{request.status}:{to}",
        data={
            "request_id": request.pk,
            "kind": request.kind,
            "status": request.status,
            "to": to,
            "requester": request.requester.name,
            "by": actor.label,
            "reason": request.decision_reason,
        },
    )


def approvers(workspace_id: int) -> list[AgentProfile]:
    """Who decides requests: the workspace's active supervisors and admins."""
    return list(
        AgentProfile.objects.filter(
            Q(role=Role.SUPERVISOR) | Q(role=Role.ADMIN), workspace_id=workspace_id, is_active=True
        ).select_related("user", "workspace")[:50]
    )


def notify_request(request: ShiftRequest, actor: Actor) -> None:
    """Tell whoever must act next, and the requester when it is decided."""
    if request.status == RequestStatus.AWAITING_PEER and request.peer is not None:
        _send(request, request.peer, "peer", actor)
    elif request.status == RequestStatus.PENDING:
        for approver in approvers(request.workspace_id):
            if approver.pk != request.requester_id:
                _send(request, approver, "approver", actor)
        if request.kind == RequestKind.SWAP:
            _send(request, request.requester, "requester", actor)
    elif request.status in (RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.DECLINED):
        _send(request, request.requester, "requester", actor)
        if request.kind == RequestKind.SWAP and request.peer is not None and request.status != RequestStatus.DECLINED:
            _send(request, request.peer, "peer", actor)
    elif request.status == RequestStatus.CANCELLED and request.peer is not None:
        _send(request, request.peer, "peer", actor)


def notify_roster(roster: Roster, counts: dict[int, int]) -> None:
    """Each agent with shifts in a newly published roster hears of it (once per version)."""
    agents = AgentProfile.objects.filter(pk__in=counts, workspace_id=roster.workspace_id).select_related(
        "user", "workspace"
    )
    for agent in agents:
        notify(
            workspace=agent.workspace,
            actor=SYSTEM,
            recipient=agent,
            kind="workforce.roster",
            title=f"roster {roster.start_date} v{roster.version}",
            url=_url("web:workforce_my_schedule"),
            dedupe_key=f"workforce.roster:{roster.pk}",
            data={
                "roster_id": roster.pk,
                "start_date": roster.start_date.isoformat(),
                "end_date": roster.end_date.isoformat(),
                "version": roster.version,
                "shifts": counts[agent.pk],
            },
        )
