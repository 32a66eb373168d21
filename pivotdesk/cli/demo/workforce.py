"""The demo's workforce: contracts, shift templates, one queue over all tickets with a forecast built from the demo's
own history (and a known peak), a published roster for this week and next, and a swap request waiting for the
supervisor."""

from __future__ import annotations

import datetime as dt

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.time import now
from pivotdesk.workforce.models import QueueKind, RosterStatus, Shift, ShiftRequest
from pivotdesk.workforce.services import config, forecasting, requests, rosters
from pivotdesk.workforce.services.model import monday_of
from pivotdesk.workforce.services.time import local_start, zone_of

SYSTEM = Actor.system("demo")
SOLVER_SECONDS = 8.0


def configure_workforce(world: DemoWorld) -> None:
    workspace = world.workspace
    full = config.contract_save(
        actor=SYSTEM,
        workspace=workspace,
        fields={
            "name": "全职 Full time",
            "min_hours_week": 24,
            "max_hours_week": 40,
            "min_rest_hours": 11,
            "max_consecutive_days": 6,
            "max_night_shifts_week": 2,
            "min_days_off_week": 2,
        },
    )
    part = config.contract_save(
        actor=SYSTEM,
        workspace=workspace,
        fields={"name": "兼职 Part time", "min_hours_week": 0, "max_hours_week": 24, "min_days_off_week": 3},
    )
    for name, kind, start, minutes, lunch in (
        ("早班 Early", "early", "08:00", 540, (60, 180, 270)),
        ("白班 Day", "day", "09:00", 540, (60, 180, 300)),
        ("晚班 Late", "late", "13:00", 540, (60, 240, 330)),
        ("夜班 Night", "night", "22:00", 480, (0, 0, 0)),
    ):
        config.template_save(
            actor=SYSTEM,
            workspace=workspace,
            fields={
                "name": name,
                "kind": kind,
                "start_time": start,
                "length_minutes": minutes,
                "unpaid_break_minutes": lunch[0],
                "break_earliest_minutes": lunch[1],
                "break_latest_minutes": lunch[2],
            },
        )
    agents = sorted(world.agents.values(), key=lambda a: a.pk)
    for index, agent in enumerate(agents):
        config.profile_update(actor=SYSTEM, agent=agent, contract=(part if index % 5 == 4 else full).pk)
    queue = config.queue_create(
        actor=SYSTEM,
        workspace=workspace,
        fields={
            "name": "全部工单 All tickets",
            "kind": QueueKind.ASYNC,
            "interval_minutes": 60,
            "shrinkage": 0.25,
            "max_occupancy": 0.85,
            "default_aht_seconds": 600,
        },
    )
    tz = zone_of(workspace)
    today = now().astimezone(tz).date()
    this_monday = monday_of(today)
    peak = this_monday + dt.timedelta(days=9)  # next week's Wednesday: a product launch
    config.forecast_event_create(
        actor=SYSTEM,
        workspace=workspace,
        name="新品发布 Product launch",
        start=local_start(peak, tz, 10 * 60),
        end=local_start(peak, tz, 18 * 60),
        multiplier=2.0,
        queue=queue,
    )
    forecasting.forecast_refresh(actor=SYSTEM, queue=queue)
    for monday in (this_monday, this_monday + dt.timedelta(days=7)):
        draft = rosters.roster_generate(
            actor=SYSTEM, workspace=workspace, start_date=monday, days=7, seconds=SOLVER_SECONDS
        )
        rosters.roster_publish(actor=SYSTEM, roster=draft)
    _pending_swap(world, this_monday + dt.timedelta(days=7))


def _pending_swap(world: DemoWorld, monday: dt.date) -> None:
    """An agent asks a colleague to swap a shift next week; the colleague accepted; the supervisor decides."""
    tz = zone_of(world.workspace)
    begin, finish = local_start(monday, tz), local_start(monday + dt.timedelta(days=7), tz)
    shifts = list(
        Shift.objects.filter(
            workspace=world.workspace,
            roster__status=RosterStatus.PUBLISHED,
            agent__isnull=False,
            agent__role=Role.AGENT,
            start__gte=begin,
            start__lt=finish,
        ).order_by("start", "agent_id")
    )
    pairs = [
        (mine, theirs)
        for mine in shifts
        for theirs in shifts
        if theirs.agent_id != mine.agent_id and theirs.start.date() != mine.start.date()
    ][:40]
    kept = None
    for mine, theirs in pairs:
        request = requests.request_swap(
            actor=SYSTEM,
            agent=mine.agent,
            shift_id=mine.pk,
            peer_shift_id=theirs.pk,
            note="家里有事，能换一下班吗？ Family matter: could we swap?",
        )
        if not request.violations:  # a swap that keeps every rule is the one worth showing
            kept = (request, theirs)
            break
        if kept is None:
            kept = (request, theirs)  # else the first one, with the rules it breaks shown to the approver
        else:
            request.delete()
    if kept is not None:
        ShiftRequest.objects.filter(workspace=world.workspace, kind="swap").exclude(pk=kept[0].pk).delete()
        requests.request_peer_answer(actor=SYSTEM, agent=kept[1].agent, request_id=kept[0].pk, accept=True)
