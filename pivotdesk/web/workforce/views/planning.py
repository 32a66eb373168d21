"""Supervisors' planning screens: forecast per queue, rosters (plan, grid, edit, publish, re-plan), requirement vs
scheduled with the unmet demand explained, and real-time adherence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import AgentProfile, AgentStatus, Skill
from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.common.time import now
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.workforce.views.common import (
    KIND_CLASSES,
    day_label,
    done,
    manage,
    parse_date,
    parse_local,
    parse_time,
    span_label,
    tz_of,
)
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import (
    Forecast,
    ForecastEvent,
    ForecastStatus,
    HistorySource,
    ImportStatus,
    Roster,
    ShiftKind,
    ShiftSource,
    ShiftTemplate,
    VolumePoint,
    WorkQueue,
)
from pivotdesk.workforce.services import adherence, checks, config, forecasting, rosters
from pivotdesk.workforce.services.model import ANY_SKILL, monday_of
from pivotdesk.workforce.services.time import local_start

CHART_DAYS = 21
SLOT = 30


def _not_found() -> NotFound:
    return NotFound(_("Not found."), code=WorkforceErrorCode.NOT_FOUND)


def skill_label(name: str) -> str:
    return _("any skill") if name == ANY_SKILL else name


# --- forecast ----------------------------------------------------------------------------------------------------


def _history(queue: WorkQueue) -> list[list[Any]]:
    """The last CHART_DAYS days of history (the desk's count wins over an import of the same interval)."""
    rows = VolumePoint.objects.filter(queue=queue, interval_minutes=queue.interval_minutes)
    last = rows.order_by("-start").values_list("start", flat=True).first()
    if last is None:
        return []
    counts: dict[dt.datetime, tuple[int, str]] = {}
    for start, count, source in rows.filter(start__gt=last - dt.timedelta(days=CHART_DAYS)).values_list(
        "start", "count", "source"
    ):
        if start not in counts or source == HistorySource.DESK:
            counts[start] = (count, source)
    return [[k.isoformat(), v[0]] for k, v in sorted(counts.items())]


def _forecast_points(forecast: Forecast | None) -> list[list[Any]]:
    """CHART_DAYS days of the forecast from yesterday (or from its start when it lies wholly in the past)."""
    if forecast is None or not forecast.points:
        return []
    points = [(dt.datetime.fromisoformat(p[0]), p) for p in forecast.points]
    begin = now() - dt.timedelta(days=1)
    if points[-1][0] < begin:
        begin = points[0][0]
    begin = max(begin, points[0][0])
    end = begin + dt.timedelta(days=CHART_DAYS)
    return [[p[0], p[1], p[2], p[3]] for ts, p in points if begin <= ts < end]


def _forecast_page(
    request: HttpRequest,
    desk: Desk,
    *,
    queue: WorkQueue | None = None,
    error: str = "",
    import_errors: list[str] | None = None,
    event_error: str = "",
    status: int = 200,
) -> HttpResponse:
    queues = list(WorkQueue.objects.filter(workspace=desk.workspace))
    if queue is None and request.GET.get("queue"):
        queue = next((q for q in queues if q.pk == int_or_none(request.GET.get("queue"))), None)
        if queue is None:
            raise _not_found()
    queue = queue or (queues[0] if queues else None)
    context: dict[str, Any] = {
        "queues": queues,
        "queue": queue,
        "error": error,
        "import_errors": import_errors or [],
        "event_error": event_error,
        "section": "forecast",
    }
    if queue is not None:
        tz = tz_of(desk)
        latest = forecasting.latest_forecast(queue)
        newest = Forecast.objects.filter(queue=queue).order_by("-created_at", "-pk").first()
        events = forecasting.events_for(queue)
        backtest = dict(latest.backtest or {}) if latest else {}
        candidates = [
            (name, None if wape is None else round(100 * wape, 1))
            for name, wape in sorted(
                (backtest.get("candidates") or {}).items(), key=lambda kv: (kv[1] is None, kv[1] or 0)
            )
        ]
        context.update(
            forecast=latest,
            failed=newest if newest is not None and newest.status == ForecastStatus.FAILED else None,
            backtest=backtest,
            candidates=candidates,
            wape_pct=None if backtest.get("wape") is None else round(100 * backtest["wape"], 1),
            per_day=backtest.get("per_day") or [],
            events=[
                {"event": e, "span": f"{e.start.astimezone(tz):%Y-%m-%d %H:%M} – {e.end.astimezone(tz):%Y-%m-%d %H:%M}"}
                for e in events
            ],
            imports=list(queue.imports.all()[:5]),
            chart={
                "history": _history(queue),
                "forecast": _forecast_points(latest),
                "events": [[e.name, e.start.isoformat(), e.end.isoformat(), e.multiplier] for e in events],
                "tz": str(tz),
                "labels": {
                    "history": _("Actual contacts"),
                    "forecast": _("Forecast"),
                    "band": _("Prediction interval"),
                    "count": _("Contacts per interval"),
                    "event": _("Event"),
                },
            },
        )
    return render(request, "web/workforce/forecast.html", context, status=status)


@agent_view
def forecast(request: HttpRequest, desk: Desk) -> HttpResponse:
    """A queue's recent history, its forecast with the interval band and events, and how well the model did."""
    manage(desk)
    return _forecast_page(request, desk)


def _queue(desk: Desk, queue_id: int | None) -> WorkQueue:
    queue = WorkQueue.objects.filter(pk=queue_id, workspace=desk.workspace).first() if queue_id else None
    if queue is None:
        raise _not_found()
    return queue


def _forecast_url(queue: WorkQueue | None) -> str:
    return reverse("web:workforce_forecast") + (f"?queue={queue.pk}" if queue else "")


@require_POST
@agent_view
def forecast_refresh(request: HttpRequest, desk: Desk, queue_id: int) -> HttpResponse:
    manage(desk)
    queue = _queue(desk, queue_id)
    try:
        result = forecasting.forecast_refresh(actor=desk.actor, queue=queue)
    except DomainError as exc:
        return _forecast_page(request, desk, queue=queue, error=exc.message, status=exc.status_code)
    if result.status == ForecastStatus.FAILED:
        messages.error(request, _("The forecast failed: %(reason)s") % {"reason": result.error})
    else:
        messages.success(request, _("Forecast refreshed (model: %(model)s).") % {"model": result.model})
    return done(request, _forecast_url(queue))


@require_POST
@agent_view
def history_import(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Upload a CSV `timestamp,count[,queue]`; a rejected file lists its errors by line."""
    manage(desk)
    queue_id = int_or_none(request.POST.get("queue"))
    queue = _queue(desk, queue_id) if queue_id else None
    upload = request.FILES.get("file")
    if upload is None:
        return _forecast_page(request, desk, queue=queue, import_errors=[_("Choose a file to import.")], status=422)
    try:
        record = forecasting.history_import(
            actor=desk.actor, workspace=desk.workspace, data=upload.read(), file_name=upload.name or "", queue=queue
        )
    except DomainError as exc:
        return _forecast_page(request, desk, queue=queue, import_errors=[exc.message], status=exc.status_code)
    if record.status == ImportStatus.REJECTED:
        errors = [forecasting.describe_import_error(e) for e in record.errors]
        return _forecast_page(request, desk, queue=queue, import_errors=errors, status=422)
    messages.success(
        request,
        ngettext("%(n)s row imported.", "%(n)s rows imported.", record.rows) % {"n": record.rows},
    )
    return done(request, _forecast_url(queue))


@require_POST
@agent_view
def event_add(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    queue_id = int_or_none(request.POST.get("queue"))
    queue = _queue(desk, queue_id) if queue_id else None
    tz = tz_of(desk)
    try:
        config.forecast_event_create(
            actor=desk.actor,
            workspace=desk.workspace,
            name=request.POST.get("name", ""),
            start=parse_local(request.POST.get("start", ""), tz, "start"),
            end=parse_local(request.POST.get("end", ""), tz, "end"),
            multiplier=request.POST.get("multiplier", ""),  # type: ignore[arg-type]  # the service validates it
            queue=queue if request.POST.get("scope") != "all" else None,
        )
    except DomainError as exc:
        return _forecast_page(request, desk, queue=queue, event_error=exc.message, status=exc.status_code)
    messages.success(request, _("Event added: refresh the forecast to apply it."))
    return done(request, _forecast_url(queue))


@require_POST
@agent_view
def event_delete(request: HttpRequest, desk: Desk, event_id: int) -> HttpResponse:
    manage(desk)
    event = ForecastEvent.objects.filter(pk=event_id, workspace=desk.workspace).first()
    if event is None:
        raise _not_found()
    queue = event.queue
    config.forecast_event_delete(actor=desk.actor, event=event)
    messages.success(request, _("Event deleted: refresh the forecast to apply it."))
    return done(request, _forecast_url(queue or _queue_or_none(desk, request.POST.get("queue"))))


def _queue_or_none(desk: Desk, value: Any) -> WorkQueue | None:
    return WorkQueue.objects.filter(pk=int_or_none(value) or 0, workspace=desk.workspace).first()


# --- rosters ------------------------------------------------------------------------------------------------------


def _rosters_page(
    request: HttpRequest, desk: Desk, *, error: str = "", form: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    today = now().astimezone(tz_of(desk)).date()
    default = {
        "start_date": (monday_of(today) + dt.timedelta(days=7)).isoformat(),
        "days": 7,
        "seconds": round(rosters.time_limit()),
    }
    rows = list(Roster.objects.filter(workspace=desk.workspace).select_related("created_by__user")[:100])
    return render(
        request,
        "web/workforce/rosters.html",
        {"rows": rows, "error": error, "form": form or default, "section": "rosters", "max_days": rosters.MAX_DAYS},
        status=status,
    )


@agent_view
def roster_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Rosters by status and version with the solver's figures, and the form to plan one (POST)."""
    manage(desk)
    if request.method != "POST":
        return _rosters_page(request, desk)
    form = {k: request.POST.get(k, "") for k in ("start_date", "days", "seconds")}
    try:
        seconds = float(form["seconds"]) if str(form["seconds"]).strip() else None
    except ValueError:
        seconds = None
    if seconds is not None:
        seconds = min(600.0, max(1.0, seconds))
    try:
        roster = rosters.roster_generate(
            actor=desk.actor,
            workspace=desk.workspace,
            start_date=form["start_date"],
            days=form["days"],
            seconds=seconds,
        )
    except DomainError as exc:
        return _rosters_page(request, desk, error=exc.message, form=form, status=exc.status_code)
    messages.success(request, _("Draft roster planned: check it, then publish it."))
    return done(request, reverse("web:workforce_roster", args=[roster.pk]))


def _roster(desk: Desk, roster_id: int) -> Roster:
    roster = Roster.objects.filter(pk=roster_id, workspace=desk.workspace).first()
    if roster is None:
        raise _not_found()
    return roster


def _days(roster: Roster) -> list[dt.date]:
    return [roster.start_date + dt.timedelta(days=i) for i in range((roster.end_date - roster.start_date).days + 1)]


def _grid(desk: Desk, roster: Roster) -> dict[str, Any]:
    tz = tz_of(desk)
    days = _days(roster)
    shifts = list(roster.shifts.select_related("agent__user", "skill", "template"))
    agents = {a.pk: a for a in rosters.rosterable_agents(desk.workspace)}
    for s in shifts:
        if s.agent is not None:
            agents.setdefault(s.agent.pk, s.agent)
    cells: dict[tuple[int | None, dt.date], list[dict[str, Any]]] = {}
    for s in shifts:
        cells.setdefault((s.agent_id, s.start.astimezone(tz).date()), []).append(
            {
                "shift": s,
                "span": span_label(s.start, s.end, tz),
                "css": KIND_CLASSES.get(s.kind, ""),
                "kind": s.get_kind_display(),
                "skill": s.skill.name if s.skill else "",
                "edited": s.source != ShiftSource.SOLVER,
                "source": s.get_source_display(),
            }
        )

    def row(agent: AgentProfile | None) -> dict[str, Any]:
        key = agent.pk if agent else None
        return {
            "agent": agent,
            "cells": [{"day": d, "shifts": cells.get((key, d), []), "agent_key": key or "open"} for d in days],
        }

    ordered = sorted(agents.values(), key=lambda a: a.name.casefold())
    return {
        "days": [{"date": d, "label": day_label(d), "weekend": d.weekday() >= 5} for d in days],
        "rows": [row(a) for a in ordered],
        "open_row": row(None),
        "agents": ordered,
    }


def _shift_form(desk: Desk, roster: Roster, request: HttpRequest) -> dict[str, Any] | None:
    """The cell's form: an existing shift (`?shift=`) or a new one for an agent and day (`?agent=&day=`)."""
    tz = tz_of(desk)
    shift_id = int_or_none(request.GET.get("shift"))
    if shift_id:
        shift = roster.shifts.filter(pk=shift_id).first()
        if shift is None:
            raise _not_found()
        a, b = shift.start.astimezone(tz), shift.end.astimezone(tz)
        return {
            "shift_id": shift.pk,
            "agent": str(shift.agent_id or ""),
            "day": a.date().isoformat(),
            "start": a.strftime("%H:%M"),
            "end": b.strftime("%H:%M"),
            "template": str(shift.template_id or ""),
            "skill": str(shift.skill_id or ""),
            "kind": shift.kind,
        }
    day = request.GET.get("day")
    if day:
        agent = request.GET.get("agent", "")
        return {
            "shift_id": "",
            "agent": "" if agent == "open" else str(int_or_none(agent) or ""),
            "day": parse_date(day).isoformat(),
            "start": "09:00",
            "end": "17:00",
            "template": "",
            "skill": "",
            "kind": ShiftKind.DAY,
        }
    return None


def _roster_page(
    request: HttpRequest,
    desk: Desk,
    roster: Roster,
    *,
    form: dict[str, Any] | None = None,
    error: str = "",
    violations: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    report = roster.solver or {}
    context = {
        "roster": roster,
        "report": report,
        "grid": _grid(desk, roster),
        "form": form if form is not None else _shift_form(desk, roster, request),
        "error": error,
        "violations": violations or [],
        "templates": list(ShiftTemplate.objects.filter(workspace=desk.workspace)),
        "skills": list(Skill.objects.filter(workspace=desk.workspace).order_by("name")),
        "kinds": ShiftKind.choices,
        "section": "rosters",
        "versions": list(Roster.objects.filter(workspace=desk.workspace, start_date=roster.start_date)),
    }
    return render(request, "web/workforce/roster.html", context, status=status)


@agent_view
def roster_detail(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    """Agents × days, open shifts in their own row; a cell opens the form to add, change or delete a shift."""
    manage(desk)
    return _roster_page(request, desk, _roster(desk, roster_id))


def _ref[M: (AgentProfile, ShiftTemplate, Skill)](model: type[M], desk: Desk, value: Any) -> M | None:
    pk = int_or_none(value)
    if not pk:
        return None
    obj = model.objects.filter(pk=pk, workspace=desk.workspace).first()
    if obj is None:
        raise _not_found()
    return obj


@require_POST
@agent_view
def shift_save(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    manage(desk)
    roster = _roster(desk, roster_id)
    tz = tz_of(desk)
    post = request.POST
    form = {k: post.get(k, "") for k in ("shift_id", "agent", "day", "start", "end", "template", "skill", "kind")}
    shift = roster.shifts.filter(pk=int_or_none(form["shift_id"]) or 0).first() if form["shift_id"] else None
    if form["shift_id"] and shift is None:
        raise _not_found()
    agent = _ref(AgentProfile, desk, form["agent"])
    template = _ref(ShiftTemplate, desk, form["template"])
    names = {agent.pk: agent.name} if agent else {}
    try:
        day = parse_date(form["day"], "day")
        if template is not None and not form["start"]:
            begin = template.start_time
            start = local_start(day, tz, begin.hour * 60 + begin.minute)
            end = start + dt.timedelta(minutes=template.length_minutes)
        else:
            begin, finish = parse_time(form["start"], "start"), parse_time(form["end"], "end")
            start = local_start(day, tz, begin.hour * 60 + begin.minute)
            end_day = day + dt.timedelta(days=1) if finish <= begin else day
            end = local_start(end_day, tz, finish.hour * 60 + finish.minute)
        _row, broken = rosters.shift_save(
            actor=desk.actor,
            roster=roster,
            start=start,
            end=end,
            agent=agent,
            template=template,
            skill=_ref(Skill, desk, form["skill"]),
            kind=form["kind"] or (template.kind if template else ShiftKind.DAY),
            shift=shift,
            force=bool(post.get("force")),
        )
    except DomainError as exc:
        found = (exc.details or {}).get("violations") if exc.code == WorkforceErrorCode.RULES_BROKEN else None
        if found:
            described = [checks.describe(v, names) for v in found]
            return _roster_page(
                request,
                desk,
                roster,
                form=form,
                error=_("This shift breaks rules:"),
                violations=described,
                status=exc.status_code,
            )
        return _roster_page(request, desk, roster, form=form, error=exc.message, status=exc.status_code)
    if broken:
        messages.warning(
            request,
            _("Shift saved although it breaks rules: %(rules)s.")
            % {"rules": "; ".join(checks.describe(v, names) for v in broken)},
        )
    else:
        messages.success(request, _("Shift saved."))
    return done(request, reverse("web:workforce_roster", args=[roster.pk]))


@require_POST
@agent_view
def shift_delete(request: HttpRequest, desk: Desk, roster_id: int, shift_id: int) -> HttpResponse:
    manage(desk)
    roster = _roster(desk, roster_id)
    shift = roster.shifts.filter(pk=shift_id).first()
    if shift is None:
        raise _not_found()
    rosters.shift_delete(actor=desk.actor, shift=shift)
    messages.success(request, _("Shift deleted."))
    return done(request, reverse("web:workforce_roster", args=[roster.pk]))


@require_POST
@agent_view
def roster_publish(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    manage(desk)
    roster = _roster(desk, roster_id)
    try:
        rosters.roster_publish(actor=desk.actor, roster=roster)
    except DomainError as exc:
        return _roster_page(request, desk, roster, error=exc.message, status=exc.status_code)
    messages.success(request, _("Roster published: its agents were notified."))
    return done(request, reverse("web:workforce_roster", args=[roster.pk]))


@require_POST
@agent_view
def roster_replan(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    manage(desk)
    roster = _roster(desk, roster_id)
    try:
        new = rosters.roster_replan(actor=desk.actor, roster=roster)
    except DomainError as exc:
        return _roster_page(request, desk, roster, error=exc.message, status=exc.status_code)
    messages.success(request, _("New draft version planned with as few changes as possible."))
    return done(request, reverse("web:workforce_roster", args=[new.pk]))


@require_POST
@agent_view
def roster_delete(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    manage(desk)
    roster = _roster(desk, roster_id)
    try:
        rosters.roster_delete(actor=desk.actor, roster=roster)
    except DomainError as exc:
        return _roster_page(request, desk, roster, error=exc.message, status=exc.status_code)
    messages.success(request, _("Draft roster deleted."))
    return done(request, reverse("web:workforce_rosters"))


# --- requirement vs scheduled ------------------------------------------------------------------------------------


def reason_label(code: str, n: int) -> str:
    """An unmet-demand reason (`domain.roster.Reason`) for n agents, in words."""
    texts = {
        "no_skill": ngettext("%(n)s agent lacks the skill", "%(n)s agents lack the skill", n),
        "on_leave": ngettext("%(n)s agent on leave", "%(n)s agents on leave", n),
        "unavailable": ngettext("%(n)s agent unavailable", "%(n)s agents unavailable", n),
        "no_template_covers": ngettext(
            "%(n)s agent has no allowed shift covering this time",
            "%(n)s agents have no allowed shift covering this time",
            n,
        ),
        "on_other_skill": ngettext("%(n)s agent working on another skill", "%(n)s agents working on another skill", n),
        "on_lunch": ngettext("%(n)s agent at lunch", "%(n)s agents at lunch", n),
        "locked_shift": ngettext("%(n)s agent held by a fixed shift", "%(n)s agents held by fixed shifts", n),
        "other_shift_that_day": ngettext(
            "%(n)s agent already on another shift that day", "%(n)s agents already on another shift that day", n
        ),
        "weekly_hours_limit": ngettext(
            "%(n)s agent at the weekly-hours limit", "%(n)s agents at the weekly-hours limit", n
        ),
        "weekly_hours_min": ngettext(
            "%(n)s agent bound by the minimum weekly hours", "%(n)s agents bound by the minimum weekly hours", n
        ),
        "rest_rule": ngettext("%(n)s agent needs the minimum rest", "%(n)s agents need the minimum rest", n),
        "consecutive_days_limit": ngettext(
            "%(n)s agent at the consecutive-days limit", "%(n)s agents at the consecutive-days limit", n
        ),
        "night_shift_limit": ngettext(
            "%(n)s agent at the night-shift limit", "%(n)s agents at the night-shift limit", n
        ),
        "days_off_rule": ngettext("%(n)s agent needs a day off", "%(n)s agents need a day off", n),
        "free_not_scheduled": ngettext("%(n)s agent free but not scheduled", "%(n)s agents free but not scheduled", n),
    }
    text = texts.get(code)
    if text is None:
        return _("%(n)s × %(code)s") % {"n": n, "code": code}
    return text % {"n": n}


def slot_time(start_date: dt.date, index: int) -> tuple[dt.date, str]:
    day, minute = divmod(index * SLOT, 1440)
    return start_date + dt.timedelta(days=day), f"{minute // 60:02d}:{minute % 60:02d}"


def unmet_lines(start_date: dt.date, unmet: list[dict[str, Any]]) -> list[str]:
    """The stored unmet items in words, consecutive intervals with the same figures and reasons merged."""
    merged: list[dict[str, Any]] = []
    for item in sorted(unmet, key=lambda u: (str(u.get("skill")), int(u.get("interval", 0)))):
        key = (item.get("skill"), item.get("need"), item.get("scheduled"), [list(r) for r in item.get("reasons", [])])
        last = merged[-1] if merged else None
        if last is not None and last["key"] == key and last["end"] == int(item["interval"]):
            last["end"] += 1
            continue
        merged.append({"key": key, "start": int(item["interval"]), "end": int(item["interval"]) + 1})
    merged.sort(key=lambda m: (m["start"], str(m["key"][0])))
    lines = []
    for m in merged:
        skill, need, scheduled, reasons = m["key"]
        day, begin = slot_time(start_date, m["start"])
        end_day, end = slot_time(start_date, m["end"])
        end = "24:00" if end_day != day and end == "00:00" else end
        head = _("%(day)s %(start)s–%(end)s: need %(need)s %(skill)s, %(scheduled)s scheduled") % {
            "day": day_label(day),
            "start": begin,
            "end": end,
            "need": need,
            "skill": skill_label(str(skill)),
            "scheduled": scheduled,
        }
        why = "; ".join(reason_label(str(code), int(n)) for code, n in reasons)
        lines.append(f"{head}: {why}" if why else head)
    return lines


@agent_view
def roster_coverage(request: HttpRequest, desk: Desk, roster_id: int) -> HttpResponse:
    """Per skill, required vs scheduled agents per 30-minute interval, and the unmet demand in words."""
    manage(desk)
    roster = _roster(desk, roster_id)
    report = rosters.coverage_of(roster)
    slots = len(_days(roster)) * 1440 // SLOT
    labels = []
    for i in range(slots):
        day, time = slot_time(roster.start_date, i)
        labels.append(f"{day_label(day)} {time}")
    charts = [
        {
            "id": f"wf-cov-{n}",
            "title": skill_label(skill),
            "need": report["need"].get(skill, [0] * slots)[:slots],
            "scheduled": report["scheduled"].get(skill, [0] * slots)[:slots],
            "under": sum(
                max(0, a - b)
                for a, b in zip(report["need"].get(skill, []), report["scheduled"].get(skill, []), strict=False)
            ),
        }
        for n, skill in enumerate(report["skills"])
    ]
    data = {
        "labels": labels,
        "charts": [{"id": c["id"], "need": c["need"], "scheduled": c["scheduled"]} for c in charts],
        "names": {"need": _("Required"), "scheduled": _("Scheduled"), "agents": _("Agents")},
    }
    return render(
        request,
        "web/workforce/coverage.html",
        {
            "roster": roster,
            "report": report,
            "charts": charts,
            "data": data,
            "lines": unmet_lines(roster.start_date, report.get("unmet") or []),
            "section": "rosters",
            **_simulation_context(request, desk, roster),
        },
    )


def _simulation_context(request: HttpRequest, desk: Desk, roster: Roster) -> dict[str, Any]:
    """`?simulate=YYYY-MM-DD`: the multi-skill simulation of that day (real-time queues), hour by hour."""
    from pivotdesk.workforce.services.simulation import simulate_roster_day

    days = _days(roster)
    raw = request.GET.get("simulate", "")
    try:
        chosen = parse_date(raw) if raw else None
    except DomainError:
        chosen = None
    context: dict[str, Any] = {"sim_days": days, "sim_day": chosen}
    if chosen is None or chosen not in days:
        return context
    rows = []
    for q in simulate_roster_day(actor=desk.actor, roster=roster, day=chosen):
        hours = [
            {
                "time": f"{i * q.interval_minutes // 60:02d}:{i * q.interval_minutes % 60:02d}",
                "sl": sl,
                "lo": lo,
                "hi": hi,
                "offered": n,
            }
            for i, (sl, lo, hi, n) in enumerate(zip(q.service_level, q.lo, q.hi, q.offered, strict=True))
            if sl is not None and n > 0
        ]
        rows.append({"queue": q, "hours": hours})
    context["simulation"] = rows
    return context


# --- adherence ---------------------------------------------------------------------------------------------------


def _board(desk: Desk) -> list[dict[str, Any]]:
    labels = {
        "working": _("Working"),
        "break": _("On break"),
        "off": pgettext("not working", "Off"),
        "leave": _("On leave"),
    }
    statuses = dict(AgentStatus.choices)
    return [
        {
            "agent": row.agent,
            "scheduled": labels.get(row.scheduled_now, row.scheduled_now),
            "scheduled_code": row.scheduled_now,
            "actual": statuses.get(row.actual, row.actual),
            "actual_code": row.actual,
            "in_adherence": row.in_adherence,
            "percent": row.today.percent,
        }
        for row in sorted(
            adherence.adherence_board(actor=desk.actor, workspace=desk.workspace), key=lambda r: r.agent.name.casefold()
        )
    ]


@agent_view
def adherence_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Scheduled activity vs actual status per agent now, and adherence today (the table polls every 30 s)."""
    manage(desk)
    template = (
        "web/workforce/_adherence_board.html" if getattr(request, "htmx", False) else "web/workforce/adherence.html"
    )
    return render(request, template, {"rows": _board(desk), "at": now(), "section": "adherence"})
