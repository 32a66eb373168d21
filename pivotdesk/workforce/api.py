"""REST endpoints of workforce: queues, forecasts (with required staff), event multipliers, history import,
rosters and their shifts, requests (swap, pick-up, leave, overtime) with approval, leave, adherence, who is on
shift. Writes go through the services (the gate is there); reads are scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import File, Form, Router, Status, UploadedFile

from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.models import AgentProfile, Skill
from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.accounts.schemas import Day, ErrorOut, Id, Instant
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.workforce import selectors
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import Leave, RequestStatus, Roster, Shift, ShiftRequest, ShiftTemplate, WorkQueue
from pivotdesk.workforce.schemas import (
    AdherenceOut,
    AnswerIn,
    CheckOut,
    DecisionIn,
    ForecastEventIn,
    ForecastEventOut,
    ForecastOut,
    ImportOut,
    LeaveIn,
    LeaveOut,
    NeedOut,
    OnShiftOut,
    QueueIn,
    QueueOut,
    RequestIn,
    RequestOut,
    RosterDetailOut,
    RosterIn,
    RosterOut,
    ShiftIn,
    ShiftOut,
    ShiftSaved,
)
from pivotdesk.workforce.services import adherence, config, forecasting, requests, rosters, simulation
from pivotdesk.workforce.services.checks import describe

router = Router(tags=["workforce"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _manager(request: HttpRequest) -> ApiContext:
    ctx = context(request)
    require(ctx.agent, Perm.WORKFORCE_MANAGE)
    return ctx


def _agent(ctx: ApiContext, pk: int | None) -> AgentProfile | None:
    if pk is None:
        return None
    agent = AgentProfile.objects.filter(workspace=ctx.workspace, pk=pk).first()
    if agent is None:
        raise NotFound(gettext("No such agent."), code=WorkforceErrorCode.NOT_FOUND)
    return agent


def _forecast_out(f: Any) -> dict[str, Any]:
    return {
        "id": f.pk,
        "queue_id": f.queue_id,
        "interval_minutes": f.interval_minutes,
        "model": f.model,
        "status": f.status,
        "error": f.error,
        "created_at": f.created_at,
        "backtest": f.backtest,
        "points": [{"start": p[0], "forecast": p[1], "lo": p[2], "hi": p[3], "aht_seconds": p[4]} for p in f.points],
    }


def _shift_out(s: Shift) -> dict[str, Any]:
    return {
        "id": s.pk,
        "roster_id": s.roster_id,
        "agent_id": s.agent_id,
        "template_id": s.template_id,
        "kind": s.kind,
        "start": s.start,
        "end": s.end,
        "break_start": s.break_start,
        "break_end": s.break_end,
        "skill": s.skill.name if s.skill_id and s.skill else None,
        "source": s.source,
    }


# --- queues, forecasts, events, history ---------------------------------------------------------------------------


@router.get("/queues/", response=list[QueueOut], summary="Forecast queues")
def list_queues(request: HttpRequest) -> list[WorkQueue]:
    ctx = _manager(request)
    return list(WorkQueue.objects.filter(workspace=ctx.workspace))


@router.post("/queues/", response={201: QueueOut, **ERRORS}, summary="Create a forecast queue")
def create_queue(request: HttpRequest, data: QueueIn) -> Status[WorkQueue]:
    ctx = context(request)
    return Status(201, config.queue_create(actor=ctx.actor, workspace=ctx.workspace, fields=data.dict()))


@router.patch("/queues/{queue_id}/", response={200: QueueOut, **ERRORS}, summary="Change a forecast queue")
def update_queue(request: HttpRequest, queue_id: Id, data: QueueIn) -> WorkQueue:
    ctx = context(request)
    queue = selectors.queue_get(ctx.workspace.pk, queue_id)
    return config.queue_update(actor=ctx.actor, queue=queue, fields=data.dict(exclude_unset=True))


@router.post(
    "/queues/{queue_id}/history/",
    response={201: ImportOut, **ERRORS},
    summary="Import a history file (CSV timestamp,count[,queue]; UTF-8 or GB18030); rejected whole on a bad row",
)
def import_history(
    request: HttpRequest,
    queue_id: Id,
    file: File[UploadedFile | None] = None,
    interval_minutes: Form[int | None] = None,
) -> Status[dict[str, Any]]:
    ctx = _manager(request)
    queue = selectors.queue_get(ctx.workspace.pk, queue_id)
    if file is None:
        raise ValidationFailed(
            gettext("Attach the history file (CSV: timestamp,count[,queue])."),
            code=WorkforceErrorCode.INVALID_FILE,
            details={"file": "required"},
        )
    record = forecasting.history_import(
        actor=ctx.actor,
        workspace=ctx.workspace,
        data=file.read(forecasting.MAX_IMPORT_BYTES + 1),
        file_name=file.name or "",
        queue=queue,
        interval_minutes=interval_minutes,
    )
    return Status(
        201,
        {
            "id": record.pk,
            "status": record.status,
            "rows": record.rows,
            "errors": record.errors,
            "messages": [forecasting.describe_import_error(e) for e in record.errors],
        },
    )


@router.get("/queues/{queue_id}/forecast/", response={200: ForecastOut, **ERRORS}, summary="The latest forecast")
def get_forecast(request: HttpRequest, queue_id: Id) -> dict[str, Any]:
    ctx = _manager(request)
    queue = selectors.queue_get(ctx.workspace.pk, queue_id)
    forecast = forecasting.latest_forecast(queue)
    if forecast is None:
        raise NotFound(gettext("This queue has no forecast yet."), code=WorkforceErrorCode.NOT_FOUND)
    return _forecast_out(forecast)


@router.post("/queues/{queue_id}/forecast/", response={201: ForecastOut, **ERRORS}, summary="Fit the forecast again")
def refresh_forecast(request: HttpRequest, queue_id: Id) -> Status[dict[str, Any]]:
    ctx = context(request)
    queue = selectors.queue_get(ctx.workspace.pk, queue_id)
    return Status(201, _forecast_out(forecasting.forecast_refresh(actor=ctx.actor, queue=queue)))


@router.get(
    "/queues/{queue_id}/requirement/",
    response={200: list[NeedOut], **ERRORS},
    summary="Agents needed per interval (Erlang C/A or workload, with shrinkage) between two instants",
)
def get_requirement(
    request: HttpRequest, queue_id: Id, start: Instant | None = None, end: Instant | None = None
) -> list[dict[str, Any]]:
    """Default: the next 7 days."""
    ctx = _manager(request)
    queue = selectors.queue_get(ctx.workspace.pk, queue_id)
    start = start or now()
    end = end or start + dt.timedelta(days=7)
    points = forecasting.forecast_points(queue, start, min(end, start + dt.timedelta(days=31)))
    return [
        {
            "start": n.start,
            "volume": round(n.volume, 3),
            "aht_seconds": round(n.aht, 1),
            "agents": n.agents,
            "scheduled": n.scheduled,
            "service_level": n.service_level,
        }
        for n in forecasting.requirement(queue, points)
    ]


@router.get("/events/", response=list[ForecastEventOut], summary="Forecast event multipliers")
def list_events(request: HttpRequest) -> list[Any]:
    ctx = _manager(request)
    from pivotdesk.workforce.models import ForecastEvent

    return list(ForecastEvent.objects.filter(workspace=ctx.workspace))


@router.post("/events/", response={201: ForecastEventOut, **ERRORS}, summary="Add a known peak or dip")
def create_event(request: HttpRequest, data: ForecastEventIn) -> Status[Any]:
    ctx = context(request)
    queue = selectors.queue_get(ctx.workspace.pk, data.queue) if data.queue else None
    event = config.forecast_event_create(
        actor=ctx.actor,
        workspace=ctx.workspace,
        name=data.name,
        start=data.start,
        end=data.end,
        multiplier=data.multiplier,
        queue=queue,
    )
    return Status(201, event)


@router.delete("/events/{event_id}/", response={204: None, **ERRORS}, summary="Remove an event multiplier")
def delete_event(request: HttpRequest, event_id: Id) -> Status[None]:
    ctx = context(request)
    config.forecast_event_delete(actor=ctx.actor, event=selectors.event_get(ctx.workspace.pk, event_id))
    return Status(204, None)


# --- rosters and shifts -------------------------------------------------------------------------------------------


@router.get("/rosters/", response=list[RosterOut], summary="Rosters, newest first")
def list_rosters(request: HttpRequest) -> list[Roster]:
    ctx = _manager(request)
    return list(Roster.objects.filter(workspace=ctx.workspace).order_by("-start_date", "-version")[:100])


@router.post("/rosters/", response={201: RosterDetailOut, **ERRORS}, summary="Plan a draft roster (CP-SAT)")
def create_roster(request: HttpRequest, data: RosterIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    roster = rosters.roster_generate(
        actor=ctx.actor, workspace=ctx.workspace, start_date=data.start_date, days=data.days, seconds=data.seconds
    )
    return Status(201, _roster_detail(roster))


def _roster_detail(roster: Roster) -> dict[str, Any]:
    return {
        "id": roster.pk,
        "start_date": roster.start_date,
        "end_date": roster.end_date,
        "version": roster.version,
        "status": roster.status,
        "based_on_id": roster.based_on_id,
        "published_at": roster.published_at,
        "solver": roster.solver,
        "shifts": [_shift_out(s) for s in roster.shifts.select_related("skill")],
    }


@router.get("/rosters/{roster_id}/", response={200: RosterDetailOut, **ERRORS}, summary="A roster with its shifts")
def get_roster(request: HttpRequest, roster_id: Id) -> dict[str, Any]:
    ctx = _manager(request)
    return _roster_detail(selectors.roster_get(ctx.workspace.pk, roster_id))


@router.get(
    "/rosters/{roster_id}/simulation/",
    response={200: list[dict[str, Any]], **ERRORS},
    summary="Expected service level per real-time queue and interval on one day of the roster (multi-skill simulation)",
)
def simulate_roster(request: HttpRequest, roster_id: Id, day: Day | None = None) -> list[dict[str, Any]]:
    """Default: the roster's first day."""
    ctx = context(request)
    roster = selectors.roster_get(ctx.workspace.pk, roster_id)
    chosen = day or roster.start_date
    return [asdict(q) for q in simulation.simulate_roster_day(actor=ctx.actor, roster=roster, day=chosen)]


@router.post("/rosters/{roster_id}/publish/", response={200: RosterOut, **ERRORS}, summary="Publish a draft")
def publish_roster(request: HttpRequest, roster_id: Id) -> Roster:
    ctx = context(request)
    return rosters.roster_publish(actor=ctx.actor, roster=selectors.roster_get(ctx.workspace.pk, roster_id))


@router.post(
    "/rosters/{roster_id}/replan/",
    response={201: RosterDetailOut, **ERRORS},
    summary="A new draft version with minimal changes",
)
def replan_roster(request: HttpRequest, roster_id: Id, data: RosterIn | None = None) -> Status[dict[str, Any]]:
    ctx = context(request)
    roster = rosters.roster_replan(
        actor=ctx.actor,
        roster=selectors.roster_get(ctx.workspace.pk, roster_id),
        seconds=data.seconds if data is not None else None,
    )
    return Status(201, _roster_detail(roster))


@router.delete("/rosters/{roster_id}/", response={204: None, **ERRORS}, summary="Discard a draft roster")
def delete_roster(request: HttpRequest, roster_id: Id) -> Status[None]:
    ctx = context(request)
    rosters.roster_delete(actor=ctx.actor, roster=selectors.roster_get(ctx.workspace.pk, roster_id))
    return Status(204, None)


def _shift_args(ctx: ApiContext, data: ShiftIn) -> dict[str, Any]:
    template = (
        ShiftTemplate.objects.filter(workspace=ctx.workspace, pk=data.template).first() if data.template else None
    )
    skill = Skill.objects.filter(workspace=ctx.workspace, pk=data.skill).first() if data.skill else None
    if (data.template and template is None) or (data.skill and skill is None):
        raise NotFound(gettext("No such shift template or skill."), code=WorkforceErrorCode.NOT_FOUND)
    return {
        "start": data.start,
        "end": data.end,
        "agent": _agent(ctx, data.agent),
        "template": template,
        "skill": skill,
        "kind": data.kind,
        "force": data.force,
    }


@router.post("/rosters/{roster_id}/shifts/", response={201: ShiftSaved, **ERRORS}, summary="Add a shift")
def create_shift(request: HttpRequest, roster_id: Id, data: ShiftIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    roster = selectors.roster_get(ctx.workspace.pk, roster_id)
    shift, violations = rosters.shift_save(actor=ctx.actor, roster=roster, **_shift_args(ctx, data))
    return Status(201, {"shift": _shift_out(shift), "violations": violations})


@router.put("/shifts/{shift_id}/", response={200: ShiftSaved, **ERRORS}, summary="Change a shift")
def update_shift(request: HttpRequest, shift_id: Id, data: ShiftIn) -> dict[str, Any]:
    ctx = context(request)
    shift = selectors.shift_get(ctx.workspace.pk, shift_id)
    saved, violations = rosters.shift_save(actor=ctx.actor, roster=shift.roster, shift=shift, **_shift_args(ctx, data))
    return {"shift": _shift_out(saved), "violations": violations}


@router.delete("/shifts/{shift_id}/", response={204: None, **ERRORS}, summary="Delete a shift")
def delete_shift(request: HttpRequest, shift_id: Id) -> Status[None]:
    ctx = context(request)
    rosters.shift_delete(actor=ctx.actor, shift=selectors.shift_get(ctx.workspace.pk, shift_id))
    return Status(204, None)


@router.get("/shifts/", response=list[ShiftOut], summary="Published shifts between two instants (mine, or all)")
def list_shifts(
    request: HttpRequest, start: Instant | None = None, end: Instant | None = None, agent: Id | None = None
) -> list[Any]:
    """Default: this week and next."""
    ctx = context(request)
    start = start or now() - dt.timedelta(days=7)
    end = end or start + dt.timedelta(days=21)
    manager = can(ctx.agent, Perm.WORKFORCE_MANAGE)
    rows = Shift.objects.filter(
        selectors.published_shifts(ctx.workspace.pk), start__lt=end, end__gt=start
    ).select_related("skill")
    if not manager or agent is not None:
        rows = rows.filter(agent_id=agent if manager else ctx.agent.pk)
    return [_shift_out(s) for s in rows[:5000]]


@router.get("/on-shift/", response=OnShiftOut, summary="Who is scheduled now (or at `at`), and when that changes")
def on_shift(request: HttpRequest, at: Instant | None = None) -> dict[str, Any]:
    ctx = context(request)
    when = selectors.availability(ctx.workspace.pk, at or now())
    return {
        "at": when.at,
        "rostered": when.rostered,
        "on_shift": {str(k): v for k, v in when.on_shift.items()},
        "on_leave": sorted(when.on_leave),
        "next_change": when.next_change,
    }


# --- requests and leave -------------------------------------------------------------------------------------------


@router.get("/requests/", response=list[RequestOut], summary="Requests: all for a supervisor, else one's own")
def list_requests(request: HttpRequest, status: str | None = None) -> list[ShiftRequest]:
    ctx = context(request)
    rows = selectors.requests_visible(ctx.workspace.pk, ctx.agent.pk, manager=can(ctx.agent, Perm.WORKFORCE_MANAGE))
    if status:
        if status not in RequestStatus.values:
            raise ValidationFailed(
                gettext("Unknown request status “%(value)s”.") % {"value": status[:40].replace("\x00", "")},
                code=WorkforceErrorCode.INVALID_VALUE,
                details={"status": sorted(RequestStatus.values)},
            )
        rows = rows.filter(status=status)
    return list(rows[:500])


def _request_kwargs(data: RequestIn) -> dict[str, Any]:
    return {"start": data.start, "end": data.end}


@router.post("/requests/check/", response={200: CheckOut, **ERRORS}, summary="The rules a request would break")
def check_request(request: HttpRequest, data: RequestIn) -> dict[str, Any]:
    ctx = context(request)
    found = requests.request_check(
        actor=ctx.actor,
        kind=data.kind,
        shift_id=data.shift_id,
        peer_shift_id=data.peer_shift_id,
        start=data.start,
        end=data.end,
    )
    names = {a.pk: a.name for a in AgentProfile.objects.filter(workspace=ctx.workspace).select_related("user")}
    return {"violations": found, "messages": [describe(v, names) for v in found]}


@router.post("/requests/", response={201: RequestOut, **ERRORS}, summary="Ask for a swap, pick-up, leave or overtime")
def create_request(request: HttpRequest, data: RequestIn) -> Status[ShiftRequest]:
    ctx = context(request)
    if data.kind == "swap":
        made = requests.request_swap(
            actor=ctx.actor, shift_id=data.shift_id or 0, peer_shift_id=data.peer_shift_id or 0, note=data.note
        )
    elif data.kind == "pickup":
        made = requests.request_pickup(actor=ctx.actor, shift_id=data.shift_id or 0, note=data.note)
    elif data.kind == "leave":
        made = requests.request_leave(
            actor=ctx.actor,
            start=data.start,  # type: ignore[arg-type]
            end=data.end,  # type: ignore[arg-type]
            leave_type=data.leave_type,
            half_day=data.half_day,
            note=data.note,
        )
    else:
        made = requests.request_overtime(
            actor=ctx.actor,
            start=data.start,  # type: ignore[arg-type]
            end=data.end,  # type: ignore[arg-type]
            note=data.note,
        )
    return Status(201, made)


@router.post("/requests/{request_id}/answer/", response={200: RequestOut, **ERRORS}, summary="Accept or decline a swap")
def answer_request(request: HttpRequest, request_id: Id, data: AnswerIn) -> ShiftRequest:
    ctx = context(request)
    return requests.request_peer_answer(actor=ctx.actor, request_id=request_id, accept=data.accept, note=data.note)


@router.post("/requests/{request_id}/decide/", response={200: RequestOut, **ERRORS}, summary="Approve or reject")
def decide_request(request: HttpRequest, request_id: Id, data: DecisionIn) -> ShiftRequest:
    ctx = context(request)
    return requests.request_decide(
        actor=ctx.actor, workspace_id=ctx.workspace.pk, request_id=request_id, approve=data.approve, reason=data.reason
    )


@router.post("/requests/{request_id}/cancel/", response={200: RequestOut, **ERRORS}, summary="Withdraw a request")
def cancel_request(request: HttpRequest, request_id: Id) -> ShiftRequest:
    ctx = context(request)
    return requests.request_cancel(actor=ctx.actor, request_id=request_id)


@router.post("/leave/", response={201: LeaveOut, **ERRORS}, summary="Record an agent's leave (supervisors)")
def create_leave(request: HttpRequest, data: LeaveIn) -> Status[Leave]:
    ctx = _manager(request)  # the gate before the lookup: a refused caller learns nothing of the agent ids
    agent = _agent(ctx, data.agent)
    assert agent is not None  # noqa: S101 - data.agent is required
    leave = requests.leave_create(
        actor=ctx.actor,
        agent=agent,
        start=data.start,
        end=data.end,
        leave_type=data.leave_type,
        half_day=data.half_day,
        reason=data.reason,
    )
    return Status(201, leave)


@router.get("/adherence/", response=list[AdherenceOut], summary="Scheduled activity vs actual status, now")
def get_adherence(request: HttpRequest) -> list[dict[str, Any]]:
    ctx = context(request)
    rows = adherence.adherence_board(actor=ctx.actor, workspace=ctx.workspace)
    return [
        {
            "agent_id": r.agent.pk,
            "name": r.agent.name,
            "scheduled_now": r.scheduled_now,
            "actual": r.actual,
            "in_adherence": r.in_adherence,
            "adherence_percent": r.today.percent,
            "scheduled_seconds": r.today.scheduled,
        }
        for r in rows
    ]
