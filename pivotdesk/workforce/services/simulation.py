"""The multi-skill check of a roster: a discrete-event simulation of one day with the roster's shifts (agents with
their skills, breaks excluded, routing by skill, abandonment) and the day's forecast of every real-time queue. It
reports the expected service level per queue and per interval with a confidence interval — what single-queue
Erlang tables cannot tell when agents serve several queues. Read only (no gate beyond WORKFORCE_MANAGE)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentSkill
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.workforce.models import QueueKind, Roster, WorkQueue
from pivotdesk.workforce.services import forecasting
from pivotdesk.workforce.services.time import day_bounds, zone_of

REPLICATIONS = 20


@dataclass(frozen=True)
class QueueDay:
    queue: str
    interval_minutes: int
    target_seconds: int
    service_level: list[float | None]  # per interval, mean of the replications
    lo: list[float | None]
    hi: list[float | None]
    offered: list[float]
    day_service_level: float | None
    day_abandon_rate: float | None


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _sim_queue(q: WorkQueue, start: dt.datetime, end: dt.datetime, tz: Any, interval: int) -> Any:
    from pivotdesk.workforce.domain.simulation import SimQueue

    slots = 24 * 60 // interval
    arrivals = [0.0] * slots
    aht = weight = 0.0
    spread = max(1, q.interval_minutes // interval)  # a coarser queue's volume spread over the finer intervals
    for point in forecasting.forecast_points(q, start, end, intraday=False):
        local = point.ts.astimezone(tz)
        index = (local.hour * 60 + local.minute) // interval
        for k in range(spread):
            if 0 <= index + k < slots:
                arrivals[index + k] += point.mean / spread
        aht += point.aht * point.mean
        weight += point.mean
    return SimQueue(
        name=q.name,
        arrivals=arrivals,
        aht_s=max(1.0, aht / weight) if weight else float(q.default_aht_seconds),
        patience_s=float(q.patience_seconds) if q.patience_seconds else None,
        target_s=float(q.target_seconds),
    )


def _sim_agents(roster: Roster, start: dt.datetime, end: dt.datetime, skill_of: dict[str, str | None]) -> list[Any]:
    """One simulated agent per shift of the day: the queues its agent's skills serve (the shift's skill first),
    on duty from shift start to end minus the break."""
    from pivotdesk.workforce.domain.simulation import SimAgent

    shifts = list(roster.shifts.filter(agent__isnull=False, start__lt=end, end__gt=start).select_related("skill"))
    skills: dict[int, set[str]] = {}
    for agent_id, name in AgentSkill.objects.filter(agent_id__in={s.agent_id for s in shifts}).values_list(
        "agent_id", "skill__name"
    ):
        skills.setdefault(agent_id, set()).add(name)
    agents = []
    for s in shifts:
        own = skills.get(s.agent_id or 0, set())
        served = [name for name, need in skill_of.items() if need is None or need in own]
        first = s.skill.name if s.skill is not None and s.skill.name in own else None
        served.sort(key=lambda name: skill_of[name] != first)
        begin = max((s.start - start).total_seconds(), 0.0)
        finish = min((s.end - start).total_seconds(), 86400.0)
        spans = [(begin, finish)]
        if s.break_start is not None and s.break_end is not None:
            b0, b1 = (s.break_start - start).total_seconds(), (s.break_end - start).total_seconds()
            spans = [(begin, max(begin, b0)), (min(finish, b1), finish)]
        agents.append(
            SimAgent(
                id=str(s.pk),
                skills={name: 1 + i for i, name in enumerate(served)},
                shifts=[span for span in spans if span[1] > span[0]],
            )
        )
    return agents


def simulate_roster_day(
    *, actor: Actor, roster: Roster, day: dt.date, replications: int = REPLICATIONS
) -> list[QueueDay]:
    """The expected service level of each real-time queue on `day` with the roster as it stands."""
    from pivotdesk.workforce.domain.simulation import simulate

    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=roster.workspace_id)
    tz = zone_of(roster.workspace)
    start, end = day_bounds(day, tz)
    queues = list(
        WorkQueue.objects.filter(workspace=roster.workspace, is_active=True, kind=QueueKind.REALTIME).select_related(
            "skill"
        )
    )
    if not queues:
        return []
    interval = min(q.interval_minutes for q in queues)
    slots = 24 * 60 // interval
    sim_queues = [_sim_queue(q, start, end, tz, interval) for q in queues]
    skill_of = {q.name: (q.skill.name if q.skill is not None else None) for q in queues}
    report = simulate(
        queues=sim_queues,
        agents=_sim_agents(roster, start, end, skill_of),
        interval_s=interval * 60.0,
        intervals=slots,
        replications=replications,
    )
    out = []
    for q in queues:
        per = [report.summary(q.name, range(i, i + 1)) for i in range(slots)]
        day_stats = report.summary(q.name)
        out.append(
            QueueDay(
                queue=q.name,
                interval_minutes=interval,
                target_seconds=q.target_seconds,
                service_level=[_clean(p.service_level.mean) for p in per],
                lo=[_clean(p.service_level.lo) for p in per],
                hi=[_clean(p.service_level.hi) for p in per],
                offered=[round(p.offered.mean, 2) for p in per],
                day_service_level=_clean(day_stats.service_level.mean),
                day_abandon_rate=_clean(day_stats.abandon_rate.mean),
            )
        )
    return out
