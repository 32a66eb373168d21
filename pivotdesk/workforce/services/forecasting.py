"""History, forecasts and required staff per queue.

- History: the desk's own tickets counted per interval in the workspace's time zone (`history_refresh`), and
  imported files (`history_import`: stored as received, parsed, rejected whole with errors by line, or imported).
  Where both exist for an interval, the desk's count wins.
- Forecast (`forecast_refresh`): the domain forecaster (models compared on a rolling-origin backtest, the better
  kept) with the business calendar (China's holidays and 调休 make-up days from the default SLA calendar) and the
  supervisor's event multipliers; stored with its backtest (WAPE/MAPE) and prediction interval.
- Intraday: today's forecast adjusted by the volume so far (`forecast_points(..., intraday=True)`).
- Required staff (`requirement`): Erlang C/A per interval for real-time queues, workload against the reply target
  for asynchronous ones (`erlang.workload_even`: the work of the last target window spread evenly, which meets
  every reply deadline), then shrinkage.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, ngettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.choices import CHANNEL_TYPE, Channel
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket
from pivotdesk.workforce.domain import history
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import (
    INTERVALS,
    Forecast,
    ForecastEvent,
    ForecastStatus,
    HistoryImport,
    HistorySource,
    ImportStatus,
    QueueKind,
    VolumePoint,
    WorkQueue,
)
from pivotdesk.workforce.services.time import zone_of

if TYPE_CHECKING:
    from pivotdesk.workforce.domain import forecast as fc

HISTORY_DAYS = 182
HORIZON_DAYS = 21
MAX_IMPORT_BYTES = 20 * 1024 * 1024
AHT_CAP_SECONDS = 3600.0


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=workspace_id)


def _interval(value: Any) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = 0
    if minutes not in INTERVALS:
        raise ValidationFailed(
            gettext("The interval must be 5, 15, 30 or 60 minutes."),
            code=WorkforceErrorCode.INVALID_VALUE,
            details={"interval_minutes": "5|15|30|60"},
        )
    return minutes


def floor_to(at: dt.datetime, minutes: int, tz: Any) -> dt.datetime:
    """The start of the interval holding `at`, on the local wall-clock grid."""
    local = at.astimezone(tz)
    minute = (local.hour * 60 + local.minute) // minutes * minutes
    return local.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)


# --- history -----------------------------------------------------------------------------------------------------


def queue_tickets(queue: WorkQueue) -> Q:
    """The tickets that belong to a queue: its channel types, its team, its categories (each when set)."""
    q = Q(workspace_id=queue.workspace_id, merged_into__isnull=True)
    if queue.channel_types:
        wanted = set(queue.channel_types)
        channels = [c for c in Channel.values if CHANNEL_TYPE.get(Channel(c), "email") in wanted]
        if "web" in wanted:
            channels.append(Channel.WEB_FORM)
        q &= Q(channel__in=sorted(set(channels)))
    if queue.team_id is not None:
        q &= Q(team_id=queue.team_id)
    category_ids = list(queue.categories.values_list("pk", flat=True))
    if category_ids:
        q &= Q(category_id__in=category_ids)
    return q


def _handle_seconds(assigned: dt.datetime | None, replied: dt.datetime | None) -> float | None:
    """The desk does not time the work on a ticket: the time from assignment to the first reply, capped at an hour,
    stands in for it (an over-estimate for agents who batch; a queue's default AHT is used until 20 are known)."""
    if assigned is None or replied is None or replied < assigned:
        return None
    return min(AHT_CAP_SECONDS, (replied - assigned).total_seconds())


def history_refresh(*, actor: Actor, queue: WorkQueue, days: int = HISTORY_DAYS) -> int:
    """Recount the queue's desk history per interval (the last `days` days); returns the intervals stored."""
    _require(actor, queue.workspace_id)
    tz = zone_of(queue.workspace)
    minutes = queue.interval_minutes
    since = now() - dt.timedelta(days=days)
    counts: Counter[dt.datetime] = Counter()
    handled: dict[dt.datetime, list[float]] = defaultdict(list)
    rows = (
        Ticket.objects.filter(queue_tickets(queue), created_at__gte=since)
        .values_list("created_at", "assigned_at", "first_response_at")
        .iterator(chunk_size=5000)
    )
    for created, assigned, replied in rows:
        slot = floor_to(created, minutes, tz)
        counts[slot] += 1
        seconds = _handle_seconds(assigned, replied)
        if seconds is not None:
            handled[slot].append(seconds)
    with transaction.atomic():
        VolumePoint.objects.filter(queue=queue, source=HistorySource.DESK, interval_minutes=minutes).delete()
        VolumePoint.objects.bulk_create(
            [
                VolumePoint(
                    workspace_id=queue.workspace_id,
                    queue=queue,
                    start=slot,
                    interval_minutes=minutes,
                    count=n,
                    handled=len(handled.get(slot, [])),
                    handle_seconds=sum(handled.get(slot, [])),
                    source=HistorySource.DESK,
                )
                for slot, n in sorted(counts.items())
            ],
            batch_size=1000,
        )
    return len(counts)


def history_import(
    *,
    actor: Actor,
    workspace: Workspace,
    data: bytes,
    file_name: str = "",
    queue: WorkQueue | None = None,
    interval_minutes: int | None = None,
) -> HistoryImport:
    """Import an external history (CSV `timestamp,count[,queue]`, UTF-8 or GB18030). The file is stored as received
    first; any malformed row (or an unknown queue name) rejects the whole file with the errors by line."""
    _require(actor, workspace.pk)
    if queue is not None and queue.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The queue belongs to another workspace."), code=WorkforceErrorCode.WRONG_WORKSPACE
        )
    minutes = _interval(interval_minutes or (queue.interval_minutes if queue else 30))
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(gettext("The file is too large (at most 20 MB)."), code=WorkforceErrorCode.INVALID_FILE)
    record = HistoryImport.objects.create(
        workspace=workspace,
        queue=queue,
        file_name=(file_name or "")[:255],
        raw=data,
        interval_minutes=minutes,
        status=ImportStatus.REJECTED,
        created_by=actor.agent,
    )
    tz = zone_of(workspace)
    parsed = history.parse_history_csv(data, tz=tz)
    errors = [{"line": e.line, "code": e.code, "value": e.value, "params": dict(e.params)} for e in parsed.errors]
    queues = {q.name: q for q in WorkQueue.objects.filter(workspace=workspace)}
    targets: list[tuple[WorkQueue, history.HistoryRow]] = []
    if not errors:
        for line, row in enumerate(parsed.rows, start=2):
            target = queues.get(row.queue) if row.queue else queue
            if target is None:
                errors.append({"line": line, "code": "unknown_queue" if row.queue else "no_queue", "value": row.queue})
                if len(errors) >= 50:
                    break
                continue
            targets.append((target, row))
    if errors:
        record.errors = errors
        record.save(update_fields=["errors", "updated_at"])
        return record
    totals: dict[tuple[int, dt.datetime], int] = defaultdict(int)
    by_pk = {}
    for target, row in targets:
        by_pk[target.pk] = target
        totals[(target.pk, floor_to(row.ts, minutes, tz))] += row.count
    with transaction.atomic():
        for queue_pk in by_pk:
            slots = [slot for (pk, slot) in totals if pk == queue_pk]
            VolumePoint.objects.filter(
                queue_id=queue_pk,
                source=HistorySource.IMPORT,
                interval_minutes=minutes,
                start__gte=min(slots),
                start__lte=max(slots),
            ).delete()
        VolumePoint.objects.bulk_create(
            [
                VolumePoint(
                    workspace=workspace,
                    queue_id=pk,
                    start=slot,
                    interval_minutes=minutes,
                    count=n,
                    source=HistorySource.IMPORT,
                )
                for (pk, slot), n in sorted(totals.items(), key=lambda item: (item[0][0], item[0][1]))
            ],
            batch_size=1000,
        )
        record.status = ImportStatus.IMPORTED
        record.rows = len(targets)
        record.save(update_fields=["status", "rows", "updated_at"])
    return record


def describe_import_error(error: dict[str, Any]) -> str:
    """One import error in words, in the active language."""
    code, value, params = error.get("code"), error.get("value", ""), error.get("params") or {}
    line = error.get("line", "?")
    texts = {
        history.BAD_TIMESTAMP: gettext("line %(line)s: “%(value)s” is not a date and time"),
        history.BAD_COUNT: gettext("line %(line)s: the count “%(value)s” is not a whole number"),
        history.NEGATIVE_COUNT: gettext("line %(line)s: the count “%(value)s” is negative"),
        history.DUPLICATE_TIMESTAMP: gettext("line %(line)s: the time “%(value)s” appears twice"),
        history.WRONG_COLUMN_COUNT: gettext("line %(line)s: expected timestamp,count[,queue]"),
        history.BAD_ENCODING: gettext("the file is neither UTF-8 nor GB18030 text"),
        history.EMPTY: gettext("the file has no data rows"),
        "unknown_queue": gettext("line %(line)s: there is no queue named “%(value)s”"),
        "no_queue": gettext("line %(line)s: the row names no queue, and none was chosen"),
    }
    text = texts.get(str(code), gettext("line %(line)s: %(value)s"))
    return text % {"line": line, "value": value or params.get("found", "")}


def _history_rows(
    queue: WorkQueue, minutes: int
) -> tuple[list[tuple[dt.datetime, int]], list[tuple[dt.datetime, float, int]]]:
    """(interval start, count) with the desk's count winning over an import; and (start, mean AHT, handled)."""
    counts: dict[dt.datetime, tuple[int, str]] = {}
    aht: list[tuple[dt.datetime, float, int]] = []
    for start, count, source, handled, seconds in VolumePoint.objects.filter(
        queue=queue, interval_minutes=minutes
    ).values_list("start", "count", "source", "handled", "handle_seconds"):
        if start not in counts or source == HistorySource.DESK:
            counts[start] = (count, source)
        if handled:
            aht.append((start, seconds / handled, handled))
    return sorted((k, v[0]) for k, v in counts.items()), aht


@dataclass(frozen=True)
class _Row:
    ts: dt.datetime
    count: int
    queue: str = ""


def _calendar(workspace: Workspace) -> fc.Calendar:
    """Holidays and make-up working days from the workspace's default business calendar (country holidays)."""
    from pivotdesk.sla.calendars import domain_calendar
    from pivotdesk.sla.models import BusinessCalendar
    from pivotdesk.workforce.domain import forecast as fc

    row = BusinessCalendar.objects.filter(workspace=workspace, is_default=True).first()
    if row is None:
        return fc.Calendar()
    built = domain_calendar(row)
    return fc.Calendar(closed_dates=frozenset(built.closed), extra_working_dates=frozenset(built.extra_workdays))


def events_for(queue: WorkQueue) -> list[ForecastEvent]:
    return list(ForecastEvent.objects.filter(Q(queue=queue) | Q(queue__isnull=True), workspace_id=queue.workspace_id))


def forecast_refresh(*, actor: Actor, queue: WorkQueue, horizon_days: int = HORIZON_DAYS) -> Forecast:
    """Fit the queue's forecast again from its history (desk + imports) and store it; a failure is stored as a
    failed forecast with its reason (and raised as a readable error when there is no history)."""
    from pivotdesk.workforce.domain import forecast as fc

    _require(actor, queue.workspace_id)
    if actor.kind != "system" or not VolumePoint.objects.filter(queue=queue, source=HistorySource.DESK).exists():
        history_refresh(actor=actor, queue=queue)
    minutes = queue.interval_minutes
    tz = zone_of(queue.workspace)
    counts, aht = _history_rows(queue, minutes)
    events = events_for(queue)
    if sum(c for _, c in counts) == 0:
        raise ValidationFailed(
            gettext("This queue has no history yet: import a history file or wait for tickets."),
            code=WorkforceErrorCode.NO_HISTORY,
        )
    series = fc.to_series([_Row(ts, c) for ts, c in counts], interval_minutes=minutes, tz=tz)
    today = now().astimezone(tz).date()
    ahead = max(1, (today - series.days[-1]).days) + horizon_days if series.days else horizon_days
    try:
        result = fc.fit_forecast(
            series,
            horizon_days=ahead,
            calendar=_calendar(queue.workspace),
            events=[
                fc.EventMultiplier(start=e.start, end=e.end, multiplier=e.multiplier, label=e.name) for e in events
            ],
            aht=aht if sum(n for _, _, n in aht) >= 20 else (),
            default_aht=float(queue.default_aht_seconds),
        )
    except (ValueError, ArithmeticError) as exc:
        return Forecast.objects.create(
            workspace_id=queue.workspace_id,
            queue=queue,
            interval_minutes=minutes,
            start=now(),
            end=now(),
            status=ForecastStatus.FAILED,
            error=str(exc)[:2000],
            history_points=len(counts),
        )
    points = [
        [p.ts.isoformat(), round(p.mean, 3), round(p.lo, 3), round(p.hi, 3), round(p.aht, 1)] for p in result.points
    ]
    bt = result.backtest
    backtest = {
        "model": result.model,
        "candidates": {k: (None if not math.isfinite(v) else round(v, 4)) for k, v in result.candidates.items()},
        "wape": round(bt.wape, 4) if bt else None,
        "mape": round(bt.mape, 2) if bt else None,
        "folds": bt.folds if bt else 0,
        "per_day": [
            {
                "day": d.day.isoformat(),
                "actual": round(d.actual, 1),
                "forecast": round(d.forecast, 1),
                "wape": round(d.wape, 4),
            }
            for d in (bt.per_day if bt else [])
        ][-30:],
        "level": result.level,
        "interval_method": result.interval_method,
    }
    return Forecast.objects.create(
        workspace_id=queue.workspace_id,
        queue=queue,
        interval_minutes=minutes,
        start=result.points[0].ts if result.points else now(),
        end=result.points[-1].ts if result.points else now(),
        model=result.model,
        points=points,
        backtest=backtest,
        history_points=len(counts),
    )


def latest_forecast(queue: WorkQueue) -> Forecast | None:
    return Forecast.objects.filter(queue=queue, status=ForecastStatus.READY).order_by("-created_at", "-pk").first()


def _points(forecast: Forecast) -> list[fc.ForecastPoint]:
    from pivotdesk.workforce.domain import forecast as fc

    return [
        fc.ForecastPoint(ts=dt.datetime.fromisoformat(p[0]), mean=p[1], lo=p[2], hi=p[3], aht=p[4])
        for p in forecast.points
    ]


def actual_counts(queue: WorkQueue, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, float]:
    """Tickets of the queue per interval in [start, end), counted now (for the intraday re-forecast and charts)."""
    tz = zone_of(queue.workspace)
    counts: Counter[dt.datetime] = Counter()
    for created in Ticket.objects.filter(queue_tickets(queue), created_at__gte=start, created_at__lt=end).values_list(
        "created_at", flat=True
    ):
        counts[floor_to(created, queue.interval_minutes, tz)] += 1
    return {k: float(v) for k, v in counts.items()}


def forecast_points(
    queue: WorkQueue, start: dt.datetime, end: dt.datetime, *, intraday: bool = True
) -> list[fc.ForecastPoint]:
    """The latest forecast's points in [start, end); today's rest adjusted by today's volume so far."""
    from pivotdesk.workforce.domain import forecast as fc

    forecast = latest_forecast(queue)
    if forecast is None:
        return []
    points = [p for p in _points(forecast) if start <= p.ts < end]
    at = now()
    tz = zone_of(queue.workspace)
    if intraday and points and any(p.ts.astimezone(tz).date() == at.astimezone(tz).date() for p in points):
        day_start = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        actual = actual_counts(queue, day_start, at)
        points = fc.reforecast_intraday(points, actual, now=at, interval_minutes=queue.interval_minutes)
    return points


# --- required staff ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    start: dt.datetime
    volume: float
    aht: float
    agents: int  # productive agents needed
    scheduled: int  # after shrinkage
    service_level: float | None


def _reply_target_seconds(queue: WorkQueue) -> float:
    """The queue's reply target, else the first-reply target for normal priority of the workspace's active SLA
    policies (most tickets are normal; the tightest such target), else 4 hours."""
    if queue.reply_target_minutes:
        return queue.reply_target_minutes * 60.0
    from pivotdesk.sla.models import Metric, SLATarget

    targets = SLATarget.objects.filter(
        policy__workspace_id=queue.workspace_id, policy__active=True, metric=Metric.FIRST_REPLY
    ).order_by("minutes")
    minutes = targets.filter(priority="normal").values_list("minutes", flat=True).first()
    if minutes is None:
        minutes = targets.values_list("minutes", flat=True).first()
    return float(minutes or 240) * 60.0


def requirement(queue: WorkQueue, points: list[fc.ForecastPoint]) -> list[Need]:
    """Agents needed per interval: Erlang C/A for real-time queues, workload for asynchronous ones."""
    from pivotdesk.workforce.domain import erlang

    interval_s = queue.interval_minutes * 60.0
    shrinkage = min(0.9, max(0.0, float(queue.shrinkage)))
    occupancy = min(1.0, max(0.1, float(queue.max_occupancy)))
    if queue.kind == QueueKind.REALTIME:
        target = erlang.Target(
            percent=min(0.999, max(0.01, queue.target_percent / 100.0)),
            seconds=float(queue.target_seconds),
            asa_seconds=float(queue.asa_seconds) if queue.asa_seconds else None,
        )
        out = []
        for p in points:
            if p.mean <= 0:
                out.append(Need(p.ts, 0.0, p.aht, 0, 0, None))
                continue
            staffing = erlang.required_agents(
                calls=p.mean,
                interval_s=interval_s,
                aht_s=max(1.0, p.aht),
                target=target,
                shrinkage=shrinkage,
                max_occupancy=occupancy,
                patience_s=float(queue.patience_seconds) if queue.patience_seconds else None,
            )
            out.append(Need(p.ts, p.mean, p.aht, staffing.agents, staffing.scheduled, staffing.service_level))
        return out
    if not points:
        return []
    mean_aht = sum(p.aht * p.mean for p in points) / max(1e-9, sum(p.mean for p in points)) or queue.default_aht_seconds
    work = erlang.workload_even(
        arrivals=[p.mean for p in points],
        interval_s=interval_s,
        aht_s=max(1.0, mean_aht),
        target_s=_reply_target_seconds(queue),
        max_occupancy=occupancy,
        shrinkage=shrinkage,
    )
    return [
        Need(p.ts, p.mean, p.aht, agents, scheduled, None)
        for p, agents, scheduled in zip(points, work.agents, work.scheduled, strict=False)
    ]


def no_history_message(queue: WorkQueue, points: int) -> str:
    return ngettext("%(name)s: %(n)s interval of history", "%(name)s: %(n)s intervals of history", points) % {
        "name": queue.name,
        "n": points,
    }
