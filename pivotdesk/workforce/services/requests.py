"""Agents' requests and their approval: shift swaps (a named colleague accepts first), open-shift pick-ups, leave
(whole or half days) and overtime; and leave a supervisor records directly.

Every request carries the rules it would break (`violations`, computed by the independent checker before it is
sent, shown on the form and to the approver). A supervisor approves or rejects (a rejection needs a reason);
approval changes the published roster at once, and every step is appended to the request's history with who and
when. The requester (and the colleague of a swap) is notified in their own language: notifications store the kind
and the facts, and are rendered when shown (`workforce/notify.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, actor_can, authorize
from pivotdesk.common.errors import NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.events import AvailabilityChanged, ShiftRequestChanged
from pivotdesk.workforce.models import (
    OPEN_REQUEST_STATUSES,
    Leave,
    LeaveType,
    RequestKind,
    RequestStatus,
    Roster,
    RosterStatus,
    Shift,
    ShiftKind,
    ShiftRequest,
    ShiftSource,
)
from pivotdesk.workforce.services.checks import Change, violations_for

MAX_REQUEST = dt.timedelta(days=60)
MAX_OVERTIME = dt.timedelta(hours=12)


def _acting_for(actor: Actor, agent: AgentProfile | None) -> AgentProfile:
    """The agent a request is made or answered for: oneself (SELF_MANAGE), or anyone for a supervisor
    (WORKFORCE_MANAGE: a sick call taken on the phone) and the system."""
    agent = agent or actor.agent
    if agent is None:
        raise PermissionDenied(gettext("Only an agent can make a request about their own schedule."))
    own = actor.is_agent(agent.pk)
    authorize(actor, Perm.SELF_MANAGE if own else Perm.WORKFORCE_MANAGE, workspace_id=agent.workspace_id)
    return agent


def _period(start: dt.datetime | None, end: dt.datetime | None, *, longest: dt.timedelta) -> tuple[Any, Any]:
    if start is None or end is None or end <= start:
        raise ValidationFailed(
            gettext("The period must end after it starts."),
            code=WorkforceErrorCode.INVALID_PERIOD,
            details={"end": "after start"},
        )
    if end - start > longest:
        raise ValidationFailed(
            gettext("The period is too long (at most %(days)s days).") % {"days": max(1, longest.days)},
            code=WorkforceErrorCode.INVALID_PERIOD,
        )
    return start, end


def _published_shift(workspace_id: int, shift_id: int | None, *, field: str) -> Shift:
    shift = (
        Shift.objects.filter(pk=shift_id, workspace_id=workspace_id, roster__status=RosterStatus.PUBLISHED)
        .select_related("roster", "template", "skill")
        .first()
        if isinstance(shift_id, int)
        else None
    )
    if shift is None:
        raise NotFound(
            gettext("No such shift in a published roster."), code=WorkforceErrorCode.NOT_FOUND, details={field: "?"}
        )
    return shift


def _step(request: ShiftRequest, actor: Actor, action: str, note: str = "") -> None:
    request.history = [
        *request.history,
        {
            "at": now().isoformat(),
            "actor_id": actor.agent.pk if actor.agent is not None else None,
            "actor": actor.label,
            "action": action,
            "note": note[:2000],
        },
    ]


def _announce(request: ShiftRequest, actor: Actor) -> None:
    from pivotdesk.workforce.notify import notify_request

    publish(
        ShiftRequestChanged(
            workspace_id=request.workspace_id,
            request_id=request.pk,
            kind=request.kind,
            status=request.status,
            requester_id=request.requester_id,
            peer_id=request.peer_id,
            actor_id=actor.agent.pk if actor.agent is not None else None,
        )
    )
    notify_request(request, actor)


def _create(actor: Actor, request: ShiftRequest, note: str) -> ShiftRequest:
    with transaction.atomic():
        _step(request, actor, "created", note)
        request.save()
        _announce(request, actor)
    return request


def request_check(
    *,
    actor: Actor,
    kind: str,
    agent: AgentProfile | None = None,
    shift_id: int | None = None,
    peer_shift_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The rules a request would break, before it is sent (read only)."""
    me = _acting_for(actor, agent)
    return violations_for(
        me.workspace_id, _change(me, kind=kind, shift_id=shift_id, peer_shift_id=peer_shift_id, start=start, end=end)
    )


def _change(
    me: AgentProfile,
    *,
    kind: str,
    shift_id: int | None = None,
    peer_shift_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Change:
    ws = me.workspace_id
    if kind == RequestKind.SWAP:
        mine, theirs = _published_shift(ws, shift_id, field="shift"), _published_shift(ws, peer_shift_id, field="peer")
        if mine.agent_id != me.pk:
            raise ValidationFailed(
                gettext("You can only swap one of your own shifts."), code=WorkforceErrorCode.NOT_YOURS
            )
        if theirs.agent_id is None or theirs.agent_id == me.pk:
            raise ValidationFailed(
                gettext("Choose a colleague's shift to swap with."), code=WorkforceErrorCode.INVALID_VALUE
            )
        return Change(kind="swap", agent_id=me.pk, shift=mine, peer_shift=theirs)
    if kind == RequestKind.PICKUP:
        shift = _published_shift(ws, shift_id, field="shift")
        if shift.agent_id is not None:
            raise ValidationFailed(gettext("This shift is not open."), code=WorkforceErrorCode.WRONG_STATE)
        return Change(kind="pickup", agent_id=me.pk, shift=shift)
    if kind == RequestKind.LEAVE:
        start, end = _period(start, end, longest=MAX_REQUEST)
        return Change(kind="leave", agent_id=me.pk, start=start, end=end)
    if kind == RequestKind.OVERTIME:
        start, end = _period(start, end, longest=MAX_OVERTIME)
        return Change(kind="overtime", agent_id=me.pk, start=start, end=end)
    raise ValidationFailed(
        gettext("Unknown kind of request “%(value)s”.") % {"value": kind}, code=WorkforceErrorCode.INVALID_VALUE
    )


def request_swap(
    *, actor: Actor, shift_id: int, peer_shift_id: int, note: str = "", agent: AgentProfile | None = None
) -> ShiftRequest:
    """Ask a colleague to swap shifts: they accept first, then a supervisor approves."""
    me = _acting_for(actor, agent)
    change = _change(me, kind=RequestKind.SWAP, shift_id=shift_id, peer_shift_id=peer_shift_id)
    assert change.shift is not None and change.peer_shift is not None  # noqa: S101 - _change guarantees it
    request = ShiftRequest(
        workspace_id=me.workspace_id,
        kind=RequestKind.SWAP,
        status=RequestStatus.AWAITING_PEER,
        requester=me,
        peer_id=change.peer_shift.agent_id,
        shift=change.shift,
        peer_shift=change.peer_shift,
        note=note,
        violations=violations_for(me.workspace_id, change),
    )
    return _create(actor, request, note)


def request_pickup(*, actor: Actor, shift_id: int, note: str = "", agent: AgentProfile | None = None) -> ShiftRequest:
    """Ask to work an open shift."""
    me = _acting_for(actor, agent)
    change = _change(me, kind=RequestKind.PICKUP, shift_id=shift_id)
    request = ShiftRequest(
        workspace_id=me.workspace_id,
        kind=RequestKind.PICKUP,
        requester=me,
        shift=change.shift,
        note=note,
        violations=violations_for(me.workspace_id, change),
    )
    return _create(actor, request, note)


def request_leave(
    *,
    actor: Actor,
    start: dt.datetime,
    end: dt.datetime,
    leave_type: str = LeaveType.ANNUAL,
    half_day: bool = False,
    note: str = "",
    agent: AgentProfile | None = None,
) -> ShiftRequest:
    """Ask for leave (annual, sick, personal; whole or half days)."""
    me = _acting_for(actor, agent)
    if leave_type not in LeaveType.values:
        raise ValidationFailed(
            gettext("Unknown leave type “%(value)s”.") % {"value": leave_type}, code=WorkforceErrorCode.INVALID_VALUE
        )
    change = _change(me, kind=RequestKind.LEAVE, start=start, end=end)
    request = ShiftRequest(
        workspace_id=me.workspace_id,
        kind=RequestKind.LEAVE,
        requester=me,
        leave_type=leave_type,
        start=change.start,
        end=change.end,
        half_day=half_day,
        note=note,
        violations=violations_for(me.workspace_id, change),
    )
    return _create(actor, request, note)


def request_overtime(
    *, actor: Actor, start: dt.datetime, end: dt.datetime, note: str = "", agent: AgentProfile | None = None
) -> ShiftRequest:
    """Offer to work extra hours."""
    me = _acting_for(actor, agent)
    change = _change(me, kind=RequestKind.OVERTIME, start=start, end=end)
    request = ShiftRequest(
        workspace_id=me.workspace_id,
        kind=RequestKind.OVERTIME,
        requester=me,
        start=change.start,
        end=change.end,
        note=note,
        violations=violations_for(me.workspace_id, change),
    )
    return _create(actor, request, note)


def _locked(workspace_id: int, request_id: int) -> ShiftRequest:
    request = (
        ShiftRequest.objects.select_for_update().filter(pk=request_id, workspace_id=workspace_id).first()
        if isinstance(request_id, int)
        else None
    )
    if request is None:
        raise NotFound(gettext("No such request."), code=WorkforceErrorCode.NOT_FOUND)
    return request


def request_peer_answer(
    *, actor: Actor, request_id: int, accept: bool, note: str = "", agent: AgentProfile | None = None
) -> ShiftRequest:
    """The colleague named in a swap accepts (it goes to a supervisor) or declines (it ends)."""
    me = _acting_for(actor, agent)
    with transaction.atomic():
        request = _locked(me.workspace_id, request_id)
        if request.peer_id != me.pk:
            raise ValidationFailed(
                gettext("Only the colleague named in the swap can answer it."), code=WorkforceErrorCode.NOT_YOURS
            )
        if request.status != RequestStatus.AWAITING_PEER:
            raise ValidationFailed(gettext("This request is not waiting for you."), code=WorkforceErrorCode.WRONG_STATE)
        request.status = RequestStatus.PENDING if accept else RequestStatus.DECLINED
        _step(request, actor, "accepted" if accept else "declined", note)
        request.save(update_fields=["status", "history", "updated_at"])
        _announce(request, actor)
    return request


def request_cancel(*, actor: Actor, request_id: int, agent: AgentProfile | None = None) -> ShiftRequest:
    """The requester withdraws a request that is still open."""
    me = _acting_for(actor, agent)
    with transaction.atomic():
        request = _locked(me.workspace_id, request_id)
        if request.requester_id != me.pk:
            raise ValidationFailed(
                gettext("Only the agent who made a request can cancel it."), code=WorkforceErrorCode.NOT_YOURS
            )
        if request.status not in OPEN_REQUEST_STATUSES:
            raise ValidationFailed(gettext("This request is already closed."), code=WorkforceErrorCode.WRONG_STATE)
        request.status = RequestStatus.CANCELLED
        _step(request, actor, "cancelled")
        request.save(update_fields=["status", "history", "updated_at"])
        _announce(request, actor)
    return request


def request_decide(
    *, actor: Actor, workspace_id: int, request_id: int, approve: bool, reason: str = ""
) -> ShiftRequest:
    """A supervisor approves (the roster changes at once) or rejects (a reason is required)."""
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=workspace_id)
    reason = (reason or "").strip()
    with transaction.atomic():
        request = _locked(workspace_id, request_id)
        if not approve and not reason:
            raise ValidationFailed(
                gettext("Say why the request is rejected."),
                code=WorkforceErrorCode.REASON_REQUIRED,
                details={"reason": "required"},
            )
        if request.status != RequestStatus.PENDING:
            raise ValidationFailed(
                gettext("Only a request waiting for approval can be decided."), code=WorkforceErrorCode.WRONG_STATE
            )
        affected = _apply(request) if approve else []
        request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        request.decided_by = actor.agent
        request.decided_at = now()
        request.decision_reason = reason[:2000]
        _step(request, actor, "approved" if approve else "rejected", reason)
        request.save()
        _announce(request, actor)
        if affected:
            publish(
                AvailabilityChanged(workspace_id=workspace_id, agent_ids=sorted(set(affected)), reason=request.kind)
            )
    return request


def _apply(request: ShiftRequest) -> list[int]:
    """Change the published roster as the approved request says; the agents whose schedule changed."""
    if request.kind == RequestKind.SWAP:
        shift, other = request.shift, request.peer_shift
        if (
            shift is None
            or other is None
            or shift.agent_id != request.requester_id
            or other.agent_id != request.peer_id
        ):
            raise ValidationFailed(
                gettext("The shifts changed since the swap was asked; ask again."), code=WorkforceErrorCode.WRONG_STATE
            )
        shift.agent_id, other.agent_id = other.agent_id, shift.agent_id
        shift.source = other.source = ShiftSource.SWAP
        Shift.objects.bulk_update([shift, other], ["agent", "source", "updated_at"])
        return [request.requester_id, other.agent_id or 0]
    if request.kind == RequestKind.PICKUP:
        shift = request.shift
        if shift is None or shift.agent_id is not None:
            raise ValidationFailed(
                gettext("This shift was taken in the meantime."), code=WorkforceErrorCode.WRONG_STATE
            )
        shift.agent_id = request.requester_id
        shift.source = ShiftSource.PICKUP
        shift.save(update_fields=["agent", "source", "updated_at"])
        return [request.requester_id]
    if request.kind == RequestKind.LEAVE:
        assert request.start is not None and request.end is not None  # noqa: S101 - validated on creation
        record_leave(
            workspace_id=request.workspace_id,
            agent_id=request.requester_id,
            start=request.start,
            end=request.end,
            leave_type=request.leave_type or LeaveType.OTHER,
            half_day=request.half_day,
            reason=request.note,
        )
        return [request.requester_id]
    assert request.start is not None and request.end is not None  # noqa: S101 - validated on creation
    roster = _roster_covering(request.workspace_id, request.start)
    Shift.objects.create(
        workspace_id=request.workspace_id,
        roster=roster,
        agent_id=request.requester_id,
        kind=ShiftKind.DAY,
        start=request.start,
        end=request.end,
        source=ShiftSource.OVERTIME,
    )
    return [request.requester_id]


def _roster_covering(workspace_id: int, at: dt.datetime) -> Roster:
    from pivotdesk.workforce.services.time import local_date

    day = local_date(workspace_id, at)
    roster = Roster.objects.filter(
        workspace_id=workspace_id, status=RosterStatus.PUBLISHED, start_date__lte=day, end_date__gte=day
    ).first()
    if roster is None:
        raise ValidationFailed(
            gettext("No published roster covers that day: publish one first."), code=WorkforceErrorCode.WRONG_STATE
        )
    return roster


def record_leave(
    *,
    workspace_id: int,
    agent_id: int,
    start: dt.datetime,
    end: dt.datetime,
    leave_type: str,
    half_day: bool = False,
    reason: str = "",
) -> Leave:
    """Store an approved leave and open up the agent's published shifts inside it (they become open shifts that
    colleagues can pick up; a shift only partly inside is kept). Callers are gated."""
    leave = Leave.objects.create(
        workspace_id=workspace_id,
        agent_id=agent_id,
        start=start,
        end=end,
        leave_type=leave_type,
        half_day=half_day,
        reason=(reason or "")[:200],
    )
    Shift.objects.filter(
        agent_id=agent_id, roster__status=RosterStatus.PUBLISHED, start__gte=start, end__lte=end
    ).update(agent=None, updated_at=now())
    return leave


def leave_create(
    *,
    actor: Actor,
    agent: AgentProfile,
    start: dt.datetime,
    end: dt.datetime,
    leave_type: str = LeaveType.OTHER,
    half_day: bool = False,
    reason: str = "",
) -> Leave:
    """A supervisor records an agent's leave directly (sick call in the morning); agents ask with request_leave."""
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=agent.workspace_id)
    if leave_type not in LeaveType.values:
        raise ValidationFailed(
            gettext("Unknown leave type “%(value)s”.") % {"value": leave_type}, code=WorkforceErrorCode.INVALID_VALUE
        )
    start, end = _period(start, end, longest=dt.timedelta(days=366))
    with transaction.atomic():
        leave = record_leave(
            workspace_id=agent.workspace_id,
            agent_id=agent.pk,
            start=start,
            end=end,
            leave_type=leave_type,
            half_day=half_day,
            reason=reason,
        )
        publish(AvailabilityChanged(workspace_id=agent.workspace_id, agent_ids=[agent.pk], reason="leave"))
    return leave


def can_decide(actor: Actor) -> bool:
    return actor_can(actor, Perm.WORKFORCE_MANAGE)
