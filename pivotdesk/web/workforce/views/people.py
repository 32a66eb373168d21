"""Every agent's screens: my schedule (with unavailability, preferences and the iCalendar feed) and the requests
inbox (swap, pick-up, leave, overtime; the colleague's answer; the supervisor's decision)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.common.errors import DomainError
from pivotdesk.common.time import now
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.workforce.views.common import (
    KIND_CLASSES,
    bad,
    day_label,
    done,
    history_action,
    manages,
    parse_date,
    parse_local,
    span_label,
    tz_of,
    weekday_names,
)
from pivotdesk.workforce import selectors
from pivotdesk.workforce.models import (
    Leave,
    LeaveType,
    RequestKind,
    RequestStatus,
    RosterStatus,
    Shift,
    ShiftRequest,
    ShiftTemplate,
    WorkforceProfile,
)
from pivotdesk.workforce.services import checks, config, requests
from pivotdesk.workforce.services.model import monday_of
from pivotdesk.workforce.services.time import local_start, zone_of

CALENDAR_SALT = "pivotdesk.workforce.calendar"
ONCALL_AHEAD = dt.timedelta(days=14)
# How far outside the window the on-call line is read, so a turn that began before it (or ends after it) is listed
# whole: a calendar event for a weekly turn must say when the turn really starts and ends, not when the page loaded.
ONCALL_MARGIN = dt.timedelta(days=8)
FEED_PAST = dt.timedelta(days=31)
FEED_AHEAD = dt.timedelta(days=92)


# --- unavailability and preferences (also used by the settings screen) ---------------------------------------------


def _minutes(value: str, *, end: bool) -> int:
    text = value.strip()
    if end and text in ("24:00", "00:00"):
        return 1440
    try:
        t = dt.time.fromisoformat(text)
    except ValueError as exc:
        raise bad(_("“%(value)s” is not a time of day (HH:MM).") % {"value": value}) from exc
    return t.hour * 60 + t.minute


def parse_unavailable(post: Any) -> dict[str, list[list[int]]]:
    """Weekday + from/to rows into the profile's {weekday: [[start, end], …]}; blank rows are skipped."""
    out: dict[str, list[list[int]]] = {}
    for day, start, end in zip(post.getlist("un_day"), post.getlist("un_from"), post.getlist("un_to"), strict=False):
        if not (day or start or end):
            continue
        if day == "" or not start or not end:
            raise bad(_("Each unavailability row needs a weekday, a start and an end."))
        out.setdefault(str(day), []).append([_minutes(start, end=False), _minutes(end, end=True)])
    return out


def parse_preferences(post: Any) -> dict[str, Any]:
    return {
        "days_off": [d for d in post.getlist("pref_day_off") if d.isdigit()],
        "templates": [t for t in post.getlist("pref_template") if t.isdigit()],
        "avoid_nights": bool(post.get("avoid_nights")),
    }


def _hhmm(minute: int) -> str:
    return "00:00" if minute >= 1440 else f"{minute // 60:02d}:{minute % 60:02d}"


def availability_context(profile: WorkforceProfile, workspace_id: int) -> dict[str, Any]:
    rows = [
        {"day": str(day), "start": _hhmm(int(s)), "end": _hhmm(int(e))}
        for day, spans in sorted((profile.unavailable or {}).items())
        for s, e in spans
    ]
    prefs = profile.preferences or {}
    return {
        "unavailable_rows": [*rows, {"day": "", "start": "", "end": ""}, {"day": "", "start": "", "end": ""}],
        "weekdays": [(str(i), name) for i, name in weekday_names()],
        "pref_days_off": [str(d) for d in prefs.get("days_off", [])],
        "pref_templates": [str(t) for t in prefs.get("templates", [])],
        "avoid_nights": bool(prefs.get("avoid_nights")),
        "all_templates": list(ShiftTemplate.objects.filter(workspace_id=workspace_id, is_active=True)),
    }


# --- my schedule ---------------------------------------------------------------------------------------------------


def oncall_shifts(
    agent: AgentProfile, start: dt.datetime, end: dt.datetime
) -> list[tuple[Any, dt.datetime, dt.datetime]]:
    """My on-call turns that overlap [start, end) across every schedule of the workspace: (schedule, start, end),
    whole (not cut at the window; turns longer than ONCALL_MARGIN are cut there) and with adjacent segments of the
    same schedule merged (layers and overrides cut the final line into pieces)."""
    from pivotdesk.oncall.models import OnCallSchedule
    from pivotdesk.oncall.services.schedules import timeline

    out: list[tuple[Any, dt.datetime, dt.datetime]] = []
    for schedule in OnCallSchedule.objects.filter(workspace_id=agent.workspace_id).prefetch_related("layers"):
        if not schedule.layers.all() and not schedule.overrides.filter(agent=agent, end__gt=start).exists():
            continue
        mine: list[tuple[Any, dt.datetime, dt.datetime]] = []
        for seg in timeline(schedule, start - ONCALL_MARGIN, end + ONCALL_MARGIN).final:
            if int(seg.participant) != agent.pk:
                continue
            if mine and mine[-1][2] >= seg.start:
                mine[-1] = (schedule, mine[-1][1], max(mine[-1][2], seg.end))
            else:
                mine.append((schedule, seg.start, seg.end))
        out += [turn for turn in mine if turn[2] > start and turn[1] < end]
    return sorted(out, key=lambda row: row[1])


def oncall_window(tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """From today's local midnight for ONCALL_AHEAD: the same list all day long, whenever the page or feed loads."""
    first = now().astimezone(tz).date()
    return local_start(first, tz), local_start(first + ONCALL_AHEAD, tz)


def calendar_url(request: HttpRequest, profile: WorkforceProfile) -> str:
    """The signed feed address: the agent's id and their current token, so regenerating the token revokes it."""
    signed = signing.Signer(salt=CALENDAR_SALT).sign_object({"a": profile.agent_id, "t": profile.calendar_token})
    return request.build_absolute_uri(reverse("web:workforce_calendar_feed", args=[signed]))


def _new_token(desk: Desk) -> WorkforceProfile:
    """A fresh calendar token for the agent's own feed (the previous link stops working)."""
    return config.calendar_token_regenerate(actor=desk.actor, agent=desk.agent)


def _schedule_page(request: HttpRequest, desk: Desk, *, error: str = "", status: int = 200) -> HttpResponse:
    tz = tz_of(desk)
    today = now().astimezone(tz).date()
    first = monday_of(today)
    begin, finish = local_start(first, tz), local_start(first + dt.timedelta(days=14), tz)
    shifts = selectors.agent_shifts(desk.agent.pk, begin, finish)
    leaves = list(Leave.objects.filter(agent=desk.agent, start__lt=finish, end__gt=begin))
    weeks = []
    for w in range(2):
        days = []
        for i in range(7):
            day = first + dt.timedelta(days=7 * w + i)
            day_begin, day_end = local_start(day, tz), local_start(day + dt.timedelta(days=1), tz)
            days.append(
                {
                    "date": day,
                    "label": day_label(day),
                    "today": day == today,
                    "shifts": [
                        {
                            "span": span_label(s.start, s.end, tz),
                            "css": KIND_CLASSES.get(s.kind, ""),
                            "kind": s.get_kind_display(),
                            "skill": s.skill.name if s.skill else "",
                            "lunch": span_label(s.break_start, s.break_end, tz)
                            if s.break_start and s.break_end
                            else "",
                        }
                        for s in shifts
                        if s.start.astimezone(tz).date() == day
                    ],
                    "leaves": [
                        lv.get_leave_type_display() for lv in leaves if lv.start < day_end and lv.end > day_begin
                    ],
                }
            )
        weeks.append({"title": _("This week") if w == 0 else _("Next week"), "days": days})
    profile = config.profile_for(desk.agent)
    if not profile.calendar_token:
        profile = _new_token(desk)
    context = {
        "weeks": weeks,
        "oncall": [
            {"schedule": sch, "id": sch.pk, "span": f"{day_label(a.astimezone(tz).date())} {span_label(a, b, tz)}"}
            for sch, a, b in oncall_shifts(desk.agent, *oncall_window(tz))
        ],
        "oncall_schedules": _oncall_schedules(desk),
        "feed_url": calendar_url(request, profile),
        "error": error,
        "section": "me",
        **availability_context(profile, desk.workspace.pk),
    }
    return render(request, "web/workforce/my_schedule.html", context, status=status)


def _oncall_schedules(desk: Desk) -> list[Any]:
    """The schedules I may cover a period of (an override for myself)."""
    from pivotdesk.oncall.models import OnCallSchedule

    return list(OnCallSchedule.objects.filter(workspace=desk.workspace))


@agent_view
def my_schedule(request: HttpRequest, desk: Desk) -> HttpResponse:
    """My shifts this week and next, approved leave, my unavailability and preferences, my calendar link."""
    return _schedule_page(request, desk)


@require_POST
@agent_view
def my_availability(request: HttpRequest, desk: Desk) -> HttpResponse:
    try:
        config.profile_update(
            actor=desk.actor,
            agent=desk.agent,
            unavailable=parse_unavailable(request.POST),
            preferences=parse_preferences(request.POST),
        )
    except DomainError as exc:
        return _schedule_page(request, desk, error=exc.message, status=exc.status_code)
    messages.success(request, _("Your availability and preferences were saved."))
    return done(request, reverse("web:workforce_my_schedule"))


@require_POST
@agent_view
def calendar_regenerate(request: HttpRequest, desk: Desk) -> HttpResponse:
    _new_token(desk)
    messages.success(request, _("New calendar link created: the previous link no longer works."))
    return done(request, reverse("web:workforce_my_schedule") + "#calendar")


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 §3.1)."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The agent's published shifts as iCalendar, for a calendar app: no login, the signed link is the key."""
    try:
        payload = signing.Signer(salt=CALENDAR_SALT).unsign_object(token)
    except signing.BadSignature as exc:
        raise Http404 from exc
    agent_id = int_or_none(payload.get("a")) if isinstance(payload, dict) else None
    profile = (
        WorkforceProfile.objects.filter(agent_id=agent_id, agent__is_active=True)
        .select_related("agent__user", "agent__workspace")
        .first()
        if agent_id
        else None
    )
    if (
        profile is None
        or not profile.calendar_token
        or not constant_time_compare(profile.calendar_token, str(payload.get("t", "")))
    ):
        raise Http404
    agent = profile.agent
    at = now()
    shifts = Shift.objects.filter(
        agent=agent, roster__status=RosterStatus.PUBLISHED, start__lt=at + FEED_AHEAD, end__gt=at - FEED_PAST
    ).select_related("skill")
    host = request.get_host().split(":")[0] or "pivotdesk"
    language = agent.user.preferred_language or agent.workspace.default_language or settings.LANGUAGE_CODE
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//PivotDesk//Workforce//EN", "CALSCALE:GREGORIAN"]
    with translation.override(language):
        lines.append(f"X-WR-CALNAME:{_ics_text(_('My shifts') + ' · ' + agent.workspace.name)}")
        for s in shifts:
            summary = _("Shift (%(kind)s)") % {"kind": s.get_kind_display()}
            if s.skill:
                summary += f" · {s.skill.name}"
            lines += [
                "BEGIN:VEVENT",
                f"UID:shift-{s.pk}@{host}",
                f"DTSTAMP:{_utc(s.updated_at)}",
                f"DTSTART:{_utc(s.start)}",
                f"DTEND:{_utc(s.end)}",
                f"SUMMARY:{_ics_text(summary)}",
                "END:VEVENT",
            ]
        for schedule, start, end in oncall_shifts(agent, *oncall_window(zone_of(agent.workspace))):
            lines += [
                "BEGIN:VEVENT",
                f"UID:oncall-{schedule.pk}-{int(start.timestamp())}@{host}",
                f"DTSTAMP:{_utc(at)}",
                f"DTSTART:{_utc(start)}",
                f"DTEND:{_utc(end)}",
                f"SUMMARY:{_ics_text(_('On call (%(schedule)s)') % {'schedule': schedule.name})}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    response = HttpResponse(
        "\r\n".join(_fold(line) for line in lines) + "\r\n", content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="shifts.ics"'
    return response


# --- requests -----------------------------------------------------------------------------------------------------


def _shift_label(shift: Shift | None, tz: Any) -> str:
    if shift is None:
        return _("(shift removed)")
    return f"{day_label(shift.start.astimezone(tz).date())} {span_label(shift.start, shift.end, tz)}"


def _period_label(start: dt.datetime | None, end: dt.datetime | None, tz: Any) -> str:
    if start is None or end is None:
        return ""
    a, b = start.astimezone(tz), end.astimezone(tz)
    return f"{day_label(a.date())} {a:%H:%M} – {day_label(b.date())} {b:%H:%M}"


def _describe(r: ShiftRequest, names: dict[int, str], tz: Any) -> dict[str, Any]:
    if r.kind == RequestKind.SWAP:
        summary = _("%(mine)s (%(me)s) ⇄ %(theirs)s (%(peer)s)") % {
            "mine": _shift_label(r.shift, tz),
            "me": names.get(r.requester_id, ""),
            "theirs": _shift_label(r.peer_shift, tz),
            "peer": names.get(r.peer_id or 0, ""),
        }
    elif r.kind == RequestKind.PICKUP:
        summary = _shift_label(r.shift, tz)
    elif r.kind == RequestKind.LEAVE:
        summary = f"{r.get_leave_type_display()} · {_period_label(r.start, r.end, tz)}"
        if r.half_day:
            summary += " · " + _("half day")
    else:
        summary = _period_label(r.start, r.end, tz)
    history = [
        {
            "at": _period_at(h.get("at"), tz),
            "who": names.get(h.get("actor_id") or 0, h.get("actor") or ""),
            "action": history_action(str(h.get("action"))),
            "note": h.get("note") or "",
        }
        for h in r.history or []
    ]
    return {
        "r": r,
        "summary": summary,
        "requester": names.get(r.requester_id, ""),
        "violations": [checks.describe(v, names) for v in r.violations or []],
        "history": history,
    }


def _period_at(value: Any, tz: Any) -> str:
    try:
        return dt.datetime.fromisoformat(str(value)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value or "")


def _requests_page(
    request: HttpRequest,
    desk: Desk,
    *,
    state: dict[str, Any] | None = None,
    decide_errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    tz = tz_of(desk)
    me = desk.agent
    at = now()
    names = {a.pk: a.name for a in AgentProfile.objects.filter(workspace=desk.workspace).select_related("user")}
    published = Shift.objects.filter(
        workspace=desk.workspace, roster__status=RosterStatus.PUBLISHED, start__gte=at
    ).select_related("agent__user", "skill")
    mine = [(s.pk, _shift_label(s, tz)) for s in published.filter(agent=me)[:200]]
    colleagues = [
        (s.pk, f"{names.get(s.agent_id or 0, '')} · {_shift_label(s, tz)}")
        for s in published.filter(agent__isnull=False).exclude(agent=me)[:300]
    ]
    open_shifts = [
        (s.pk, _shift_label(s, tz) + (f" · {s.skill.name}" if s.skill else ""))
        for s in published.filter(agent__isnull=True)[:200]
    ]
    own = ShiftRequest.objects.filter(workspace=desk.workspace).filter(Q(requester=me) | Q(peer=me))
    rows = [_describe(r, names, tz) for r in own.select_related("shift", "peer_shift")[:100]]
    for row in rows:
        r = row["r"]
        row["answer"] = r.peer_id == me.pk and r.status == RequestStatus.AWAITING_PEER
        row["cancel"] = r.requester_id == me.pk and r.status in (RequestStatus.AWAITING_PEER, RequestStatus.PENDING)
    approvals = []
    if manages(desk):
        approvals = [
            _describe(r, names, tz)
            for r in ShiftRequest.objects.filter(workspace=desk.workspace, status=RequestStatus.PENDING)
            .select_related("shift", "peer_shift")
            .order_by("created_at", "pk")[:100]
        ]
    state = state or {}
    context = {
        "section": "requests",
        "mine": mine,
        "colleagues": colleagues,
        "open_shifts": open_shifts,
        "rows": rows,
        "approvals": approvals,
        "decide_errors": decide_errors or {},
        "state": state,
        "values": state.get("values", {}),
        "leave_types": LeaveType.choices,
        "kinds": RequestKind.choices,
    }
    return render(request, "web/workforce/requests.html", context, status=status)


def _leave_period(values: dict[str, str], tz: Any) -> tuple[dt.datetime, dt.datetime]:
    first = parse_date(values.get("start_date", ""), "start_date")
    if values.get("half") in ("am", "pm"):
        noon = local_start(first, tz, 12 * 60)
        return (
            (local_start(first, tz), noon)
            if values["half"] == "am"
            else (noon, local_start(first + dt.timedelta(days=1), tz))
        )
    last = parse_date(values.get("end_date") or values.get("start_date", ""), "end_date")
    return local_start(first, tz), local_start(last + dt.timedelta(days=1), tz)


FIELDS = ("kind", "shift", "peer_shift", "leave_type", "start_date", "end_date", "half", "start", "end", "note")


@agent_view
def request_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """My requests and the swaps I am asked to answer; for supervisors the requests waiting for approval. POST sends a
    new request, or (`check`) shows the rules it would break first."""
    if request.method != "POST":
        return _requests_page(request, desk)
    values = {k: request.POST.get(k, "").strip() for k in FIELDS}
    kind = values["kind"]
    tz = tz_of(desk)
    state: dict[str, Any] = {"kind": kind, "values": values}
    try:
        start = end = None
        if kind == RequestKind.LEAVE:
            start, end = _leave_period(values, tz)
        elif kind == RequestKind.OVERTIME:
            start, end = parse_local(values["start"], tz, "start"), parse_local(values["end"], tz, "end")
        shift_id, peer_id = int_or_none(values["shift"]), int_or_none(values["peer_shift"])
        if "check" in request.POST:
            found = requests.request_check(
                actor=desk.actor, kind=kind, shift_id=shift_id, peer_shift_id=peer_id, start=start, end=end
            )
            names = {a.pk: a.name for a in AgentProfile.objects.filter(workspace=desk.workspace).select_related("user")}
            state.update(checked=True, violations=[checks.describe(v, names) for v in found])
            return _requests_page(request, desk, state=state)
        note = values["note"]
        if kind == RequestKind.SWAP:
            requests.request_swap(actor=desk.actor, shift_id=shift_id or 0, peer_shift_id=peer_id or 0, note=note)
        elif kind == RequestKind.PICKUP:
            requests.request_pickup(actor=desk.actor, shift_id=shift_id or 0, note=note)
        elif kind == RequestKind.LEAVE and start and end:
            requests.request_leave(
                actor=desk.actor,
                start=start,
                end=end,
                leave_type=values["leave_type"] or LeaveType.ANNUAL,
                half_day=values["half"] in ("am", "pm"),
                note=note,
            )
        elif kind == RequestKind.OVERTIME and start and end:
            requests.request_overtime(actor=desk.actor, start=start, end=end, note=note)
        else:
            raise bad(_("Unknown kind of request “%(value)s”.") % {"value": kind})
    except DomainError as exc:
        state["error"] = exc.message
        return _requests_page(request, desk, state=state, status=exc.status_code)
    messages.success(request, _("Request sent."))
    return done(request, reverse("web:workforce_requests"))


@require_POST
@agent_view
def request_answer(request: HttpRequest, desk: Desk, request_id: int) -> HttpResponse:
    accept = request.POST.get("answer") == "accept"
    requests.request_peer_answer(
        actor=desk.actor, request_id=request_id, accept=accept, note=request.POST.get("note", "")
    )
    messages.success(request, _("Swap accepted: it now waits for approval.") if accept else _("Swap declined."))
    return done(request, reverse("web:workforce_requests"))


@require_POST
@agent_view
def request_cancel(request: HttpRequest, desk: Desk, request_id: int) -> HttpResponse:
    requests.request_cancel(actor=desk.actor, request_id=request_id)
    messages.success(request, _("Request withdrawn."))
    return done(request, reverse("web:workforce_requests"))


@require_POST
@agent_view
def request_decide(request: HttpRequest, desk: Desk, request_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        requests.request_decide(
            actor=desk.actor,
            workspace_id=desk.workspace.pk,
            request_id=request_id,
            approve=approve,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        return _requests_page(request, desk, decide_errors={request_id: exc.message}, status=exc.status_code)
    messages.success(request, _("Request approved: the roster was changed.") if approve else _("Request rejected."))
    return HttpResponseRedirect(reverse("web:workforce_requests") + "#approvals")


@agent_view
def home(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The "Schedule" tab: supervisors land on the rosters, agents on their own schedule."""
    return HttpResponseRedirect(reverse("web:workforce_rosters" if manages(desk) else "web:workforce_my_schedule"))
