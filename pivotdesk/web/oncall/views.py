"""The night-duty screens: schedules with a 14-day timeline, escalation policies, pages, partners and after-hours
answers. Every change goes through the oncall services (the permission gate is inside them); a refused value is
shown on its own form, re-rendered with the 4xx status of the error."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.contrib import messages
from django.db import models, transaction
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.common.errors import DomainError, NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.models import Tier
from pivotdesk.oncall.errors import OncallErrorCode
from pivotdesk.oncall.models import (
    AfterHoursAnswer,
    EscalationPolicy,
    EscalationStep,
    OnCallLayer,
    OnCallSchedule,
    Page,
    PageNotice,
    PageStatus,
    Partner,
    RestrictionKind,
    TargetKind,
    TurnKind,
)
from pivotdesk.oncall.services import paging, partners, policies, schedules
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Category, Priority, SlaState, Status, Ticket
from pivotdesk.web.base import Desk, agent_view, int_or_none, safe_next

DAYS = 14
COLOURS = 10  # oc-c0 … oc-c9 in oncall.css
LEVEL_ROWS = 3  # empty level rows offered below the existing ones
SPLIT = re.compile(r"[,，、;；\n]+")


def _manage(desk: Desk) -> None:
    """The configuration screens show only to those the services accept (supervisors and admins)."""
    require(desk.agent, Perm.ROUTING_MANAGE)


def _get[M: models.Model](model: type[M], desk: Desk, pk: Any) -> M:
    obj = model._default_manager.filter(pk=int_or_none(pk) or 0, workspace=desk.workspace).first()
    if obj is None:
        raise NotFound(_("Not found."), code=OncallErrorCode.NOT_FOUND)
    return obj


def _optional[M: models.Model](model: type[M], desk: Desk, pk: Any) -> M | None:
    return _get(model, desk, pk) if int_or_none(pk) else None


def _words(value: str) -> list[str]:
    return [w.strip() for w in SPLIT.split(value or "") if w.strip()]


def _saved(request: HttpRequest, url: str) -> HttpResponse:
    messages.success(request, _("Saved."))
    return _redirect(url)


def _redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=302)
    response["Location"] = url
    return response


def _agents(desk: Desk) -> list[AgentProfile]:
    rows = list(AgentProfile.objects.filter(workspace=desk.workspace, is_active=True).select_related("user"))
    return sorted(rows, key=lambda a: a.name.casefold())


def _names(desk: Desk) -> dict[int, str]:
    return {a.pk: a.name for a in AgentProfile.objects.filter(workspace=desk.workspace).select_related("user")}


# --- schedules -----------------------------------------------------------------------------------------------------


def _zone(schedule: OnCallSchedule) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(schedule.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def _window(tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime, dt.date]:
    """Today's local midnight and 14 days later, in UTC."""
    today = now().astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(today + dt.timedelta(days=DAYS), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    return start, end, today


def _bars(
    segments: list[Any],
    *,
    start: dt.datetime,
    end: dt.datetime,
    colours: dict[int, int],
    names: dict[int, str],
    tz: Any,
) -> list[dict[str, Any]]:
    """SVG rectangles in a 0–1000 wide box: the CSP allows no inline style, SVG attributes are fine."""
    total = (end - start).total_seconds()
    out = []
    for s in segments:
        a, b = max(s.start, start), min(s.end, end)
        if b <= a:
            continue
        who = int(s.participant)
        out.append(
            {
                "x": round((a - start).total_seconds() / total * 1000, 2),
                "width": round((b - a).total_seconds() / total * 1000, 2),
                "css": f"oc-c{colours.setdefault(who, len(colours) % COLOURS)}",
                "who": names.get(who, f"#{who}"),
                "span": f"{a.astimezone(tz):%m-%d %H:%M} – {b.astimezone(tz):%m-%d %H:%M}",
            }
        )
    return out


def _layer_form(layer: OnCallLayer | None, names: dict[int, str], tz: Any) -> dict[str, Any]:
    spec = (layer.restriction or {}) if layer else {}
    daily = (spec.get("windows") or [["19:00", "08:00"]])[0] if layer and layer.restriction_kind == "daily" else None
    weekly = spec.get("windows", []) if layer and layer.restriction_kind == "weekly" else []
    start = layer.start.replace(tzinfo=None) if layer else dt.datetime.combine(now().astimezone(tz).date(), dt.time(9))
    return {
        "layer": layer,
        "key": f"layer-{layer.pk if layer else 'new'}",
        "participants": [str(p) for p in layer.participants] if layer else [],
        "order": ", ".join(names.get(int(p), str(p)) for p in layer.participants) if layer else "",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "turn_kind": layer.turn_kind if layer else TurnKind.WEEKLY,
        "turn_hours": layer.turn_hours if layer else 24,
        "restriction_kind": layer.restriction_kind if layer else RestrictionKind.NONE,
        "daily_from": daily[0] if daily else "19:00",
        "daily_to": daily[1] if daily else "08:00",
        "weekly": "\n".join(str(w) for w in weekly),
    }


def _schedule_rows(desk: Desk) -> list[dict[str, Any]]:
    names, at = _names(desk), now()
    rows = []
    for s in OnCallSchedule.objects.filter(workspace=desk.workspace).prefetch_related("layers"):
        who = schedules.on_call_agent(s, at) if s.layers.all() else None
        rows.append({"schedule": s, "now": names.get(who, "") if who else "", "layers": len(s.layers.all())})
    return rows


def _list_page(request: HttpRequest, desk: Desk, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {"section": "schedules", "rows": _schedule_rows(desk), "error": error}
    return render(request, "web/oncall/schedules.html", context, status=status)


@agent_view
def schedule_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    return _list_page(request, desk)


@require_POST
@agent_view
def schedule_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    schedule = _optional(OnCallSchedule, desk, request.POST.get("id"))
    try:
        schedule = schedules.schedule_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=request.POST.get("name", ""),
            time_zone=request.POST.get("time_zone", "").strip() or "Asia/Shanghai",
            schedule=schedule,
        )
    except DomainError as exc:
        if schedule is not None:
            return _detail_page(request, desk, schedule, errors={"schedule": exc.message}, status=exc.status_code)
        return _list_page(request, desk, error=exc.message, status=exc.status_code)
    return _saved(request, reverse("web:oncall_schedule", args=[schedule.pk]))


def _detail_page(
    request: HttpRequest,
    desk: Desk,
    schedule: OnCallSchedule,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    tz = _zone(schedule)
    start, end, today = _window(tz)
    names = _names(desk)
    layers = list(schedule.layers.order_by("position", "pk"))
    line = schedules.timeline(schedule, start, end)
    colours: dict[int, int] = {}
    rows = [
        {
            "label": layer.name,
            "user": bool(layer.name),
            "number": i + 1,
            "bars": _bars(segs, start=start, end=end, colours=colours, names=names, tz=tz),
        }
        for i, (layer, segs) in enumerate(zip(layers, line.layers, strict=False))
    ]
    overrides = _bars(line.overrides, start=start, end=end, colours=colours, names=names, tz=tz)
    final = _bars(line.final, start=start, end=end, colours=colours, names=names, tz=tz)
    who = schedules.on_call_agent(schedule, now()) if layers else None
    errors = errors or {}
    forms = [_layer_form(layer, names, tz) for layer in layers] + [_layer_form(None, names, tz)]
    for form in forms:
        form["error"] = errors.get(form["key"], "")
    context = {
        "section": "schedules",
        "schedule": schedule,
        "rows": rows,
        "overrides": overrides,
        "final": final,
        "legend": [(names.get(p, f"#{p}"), f"oc-c{c}") for p, c in colours.items()],
        "days": [
            f"{formats.date_format(day, 'D')} {day:%m-%d}"
            for day in (today + dt.timedelta(days=i) for i in range(DAYS))
        ],
        "now_name": names.get(who, "") if who else "",
        "agents": _agents(desk),
        "forms": forms,
        "turn_kinds": TurnKind.choices,
        "restriction_kinds": RestrictionKind.choices,
        "errors": errors,
        "override_start": (now().astimezone(tz)).strftime("%Y-%m-%dT%H:00"),
        "upcoming": schedule.overrides.filter(end__gt=now()).select_related("agent__user"),
        "tz": tz,
    }
    return render(request, "web/oncall/schedule.html", context, status=status)


@agent_view
def schedule_detail(request: HttpRequest, desk: Desk, schedule_id: int) -> HttpResponse:
    schedule = _get(OnCallSchedule, desk, schedule_id)
    _manage(desk)
    return _detail_page(request, desk, schedule)


def _ordered_participants(post: Any, desk: Desk) -> list[int]:
    """The multi-select says who; the order field (names, comma separated) says in which order, when filled."""
    chosen = [p for p in (int_or_none(v) for v in post.getlist("participants")) if p]
    order = _words(post.get("order", ""))
    if not order:
        return chosen
    by_name = {a.name.casefold(): a.pk for a in _agents(desk)}
    ordered = []
    for name in order:
        pk = by_name.get(name.casefold())
        if pk is None:
            raise ValidationFailed(
                _("“%(name)s” in the order is not an agent of this workspace.") % {"name": name},
                code=OncallErrorCode.INVALID_VALUE,
            )
        ordered.append(pk)
    return ordered + [p for p in chosen if p not in ordered]


def _restriction(post: Any) -> tuple[str, dict[str, Any]]:
    kind = post.get("restriction_kind", RestrictionKind.NONE)
    if kind == RestrictionKind.DAILY:
        return kind, {"windows": [[post.get("daily_from", "").strip(), post.get("daily_to", "").strip()]]}
    if kind == RestrictionKind.WEEKLY:
        lines = [w.strip() for w in post.get("weekly", "").splitlines() if w.strip()]
        if not lines:
            raise ValidationFailed(
                _("Write at least one weekly window, like “Sat 00:00 -> Mon 00:00”."),
                code=OncallErrorCode.INVALID_VALUE,
            )
        return kind, {"windows": lines}
    return kind, {}


def _local(value: str, tz: zoneinfo.ZoneInfo | None = None) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(
            _("“%(value)s” is not a date and time.") % {"value": value}, code=OncallErrorCode.INVALID_VALUE
        ) from exc
    return naive.replace(tzinfo=tz) if tz is not None else naive.replace(tzinfo=None)


@require_POST
@agent_view
def layer_save(request: HttpRequest, desk: Desk, schedule_id: int) -> HttpResponse:
    schedule = _get(OnCallSchedule, desk, schedule_id)
    _manage(desk)
    post = request.POST
    layer = _optional(OnCallLayer, desk, post.get("id"))
    if layer is not None and layer.schedule_id != schedule.pk:
        raise NotFound(_("Not found."), code=OncallErrorCode.NOT_FOUND)
    key = f"layer-{layer.pk if layer else 'new'}"
    try:
        kind, restriction = _restriction(post)
        schedules.layer_save(
            actor=desk.actor,
            schedule=schedule,
            participants=_ordered_participants(post, desk),
            start=_local(post.get("start", "")),
            turn_kind=post.get("turn_kind", TurnKind.WEEKLY),
            turn_hours=int_or_none(post.get("turn_hours")) or 24,
            restriction_kind=kind,
            restriction=restriction,
            name=post.get("name", "").strip(),
            layer=layer,
        )
    except DomainError as exc:
        return _detail_page(request, desk, schedule, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, reverse("web:oncall_schedule", args=[schedule.pk]) + "#timeline")


@require_POST
@agent_view
def override_add(request: HttpRequest, desk: Desk, schedule_id: int) -> HttpResponse:
    """Supervisors add anyone's override here; an agent may add their own (from My schedule)."""
    schedule = _get(OnCallSchedule, desk, schedule_id)
    post = request.POST
    agent = _optional(AgentProfile, desk, post.get("agent")) or desk.agent
    tz = _zone(schedule)
    manager = _may_manage(desk)
    try:
        schedules.override_create(
            actor=desk.actor,
            schedule=schedule,
            agent=agent,
            start=_local(post.get("start", ""), tz),
            end=_local(post.get("end", ""), tz),
            note=post.get("note", "").strip(),
        )
    except DomainError as exc:
        if not manager:
            raise
        return _detail_page(request, desk, schedule, errors={"override": exc.message}, status=exc.status_code)
    if not manager:
        return _saved(request, reverse("web:workforce_my_schedule") + "#on-call")
    return _saved(request, reverse("web:oncall_schedule", args=[schedule.pk]) + "#overrides")


@require_POST
@agent_view
def my_override(request: HttpRequest, desk: Desk) -> HttpResponse:
    """An agent covers a period of a schedule themselves (SELF_MANAGE), from My schedule."""
    schedule = _get(OnCallSchedule, desk, request.POST.get("schedule"))
    tz = _zone(schedule)
    schedules.override_create(
        actor=desk.actor,
        schedule=schedule,
        agent=desk.agent,
        start=_local(request.POST.get("start", ""), tz),
        end=_local(request.POST.get("end", ""), tz),
        note=request.POST.get("note", "").strip(),
    )
    return _saved(request, reverse("web:workforce_my_schedule") + "#on-call")


def _may_manage(desk: Desk) -> bool:
    return can(desk.agent, Perm.ROUTING_MANAGE)


# --- pages ---------------------------------------------------------------------------------------------------------


def _pages_page(request: HttpRequest, desk: Desk, *, error: str = "", status: int = 200) -> HttpResponse:
    base = Page.objects.filter(workspace=desk.workspace).select_related(
        "ticket", "policy", "acknowledged_by__user", "acknowledged_partner"
    )
    context = {
        "section": "pages",
        "open_pages": list(base.filter(status=PageStatus.TRIGGERED)),
        "recent": list(base.exclude(status=PageStatus.TRIGGERED)[:50]),
        "error": error,
    }
    return render(request, "web/oncall/pages.html", context, status=status)


@agent_view
def page_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    return _pages_page(request, desk)


def _page_action(request: HttpRequest, desk: Desk, page_id: int, *, resolve: bool) -> HttpResponse:
    """Anyone who may update tickets acknowledges or resolves (the service's gate). Posted from the ticket page (a
    local `next`), it goes back there, a refusal of the page's state as a message on it; from the pages list, the
    list re-renders with the refusal for those who may see it. A role refused by the gate gets the gate's error."""
    page = _get(Page, desk, page_id)
    back = safe_next(request, "")
    try:
        if resolve:
            paging.page_resolve(actor=desk.actor, page=page)
            messages.success(request, _("The page is resolved."))
        else:
            paging.page_acknowledge(actor=desk.actor, page=page)
            messages.success(request, _("Acknowledged: the ticket is yours."))
    except ValidationFailed as exc:
        if back:
            messages.error(request, exc.message)
            return _redirect(back)
        if not _may_manage(desk):
            raise
        return _pages_page(request, desk, error=exc.message, status=exc.status_code)
    if back:
        return _redirect(back)
    return _redirect(
        reverse("web:oncall_pages") if _may_manage(desk) else reverse("web:ticket", args=[page.ticket.number])
    )


@require_POST
@agent_view
def page_acknowledge(request: HttpRequest, desk: Desk, page_id: int) -> HttpResponse:
    return _page_action(request, desk, page_id, resolve=False)


@require_POST
@agent_view
def page_resolve(request: HttpRequest, desk: Desk, page_id: int) -> HttpResponse:
    return _page_action(request, desk, page_id, resolve=True)


# --- the ticket page's on-call panel -------------------------------------------------------------------------------


def ticket_oncall_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """The on-call panel of the ticket page: the ticket's latest page with its policy, its number of levels and who
    acknowledged it (one query), and who was paged at its current level (a second query, only when there is a page).
    The level count is the one `paging.levels` gives (distinct step positions), counted in the same query."""
    level_count = (
        EscalationStep.objects.filter(policy=OuterRef("policy_id"))
        .order_by()
        .values("policy")
        .annotate(n=Count("position", distinct=True))
        .values("n")
    )
    page = (
        Page.objects.filter(ticket=ticket, workspace=desk.workspace)
        .select_related("policy", "acknowledged_by__user", "acknowledged_partner")
        .annotate(level_count=Subquery(level_count))
        .order_by("-created_at", "-pk")
        .first()
    )
    paged: list[dict[str, Any]] = []
    if page is not None:
        notices = PageNotice.objects.filter(page=page, level=page.level, cycle=page.cycle).select_related(
            "agent__user", "partner"
        )
        for notice in notices.order_by("pk"):  # one notice per person per level: a re-sent level lists them once
            if notice.agent is not None:
                row = {"name": notice.agent.name, "partner": False}
            elif notice.partner is not None:
                row = {"name": notice.partner.name, "partner": True}
            else:
                continue
            if row not in paged:
                paged.append(row)
    is_open = page is not None and page.status == PageStatus.TRIGGERED
    pageable = ticket.status not in (Status.SOLVED, Status.CLOSED) and ticket.merged_into_id is None
    return {
        "page": page,
        "levels": getattr(page, "level_count", None) or 0,
        "rounds": (page.policy.repeat + 1) if page is not None and page.policy is not None else 1,
        "paged": paged,
        "partner_label": TargetKind.PARTNER.label,
        "may_act": can(desk.agent, Perm.TICKET_UPDATE),
        "may_page": not is_open and pageable and _may_manage(desk),
        "next": reverse("web:ticket", args=[ticket.number]),
    }


def _not_paged_reason(ticket: Ticket) -> str:
    """Why `page_ticket` paged nobody (it answers None), in the order it decides."""
    if ticket.status in (Status.SOLVED, Status.CLOSED) or ticket.merged_into_id is not None:
        return _("A solved, closed or merged ticket is not paged.")
    if Page.objects.filter(ticket=ticket, status=PageStatus.TRIGGERED).exists():
        return _("This ticket already has an open page.")
    return _("No escalation policy matches this ticket.")


@require_POST
@agent_view
def ticket_page_oncall(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """A supervisor pages on-call for this ticket by hand (`page_ticket` asks for Perm.ROUTING_MANAGE), back on the
    ticket page with what happened; nothing paged is said, never silent."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    page = paging.page_ticket(actor=desk.actor, ticket=ticket)
    if page is None:
        messages.error(request, _not_paged_reason(ticket))
    else:
        messages.success(
            request,
            _("On call is paged (policy “%(policy)s”).") % {"policy": page.policy.name if page.policy else "—"},
        )
    return _redirect(reverse("web:ticket", args=[ticket.number]))


# --- escalation policies -------------------------------------------------------------------------------------------


def _channels() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Ticket._meta.get_field("channel").choices or []]


def conditions_in_words(conditions: dict[str, Any], desk: Desk) -> list[dict[str, Any]]:
    """Each set condition as a label and its values; names people typed are marked as theirs (not translated)."""
    c = conditions or {}
    out: list[dict[str, Any]] = []
    comma = "、" if (get_language() or "").startswith("zh") else ", "
    priorities, channels = dict(Priority.choices), dict(_channels())
    if c.get("priorities"):
        out.append({"label": _("Priority"), "values": [str(priorities.get(p, p)) for p in c["priorities"]]})
    if c.get("categories"):
        found = dict(
            Category.objects.filter(workspace=desk.workspace, pk__in=c["categories"]).values_list("pk", "name")
        )
        out.append({"label": _("Category"), "values": [found.get(int(i), f"#{i}") for i in c["categories"]], "user": 1})
    if c.get("channels"):
        out.append({"label": _("Channel"), "values": [channels.get(x, x) for x in c["channels"]]})
    if c.get("keywords"):
        out.append({"label": _("Keywords"), "values": c["keywords"], "user": 1})
    if c.get("tiers"):
        tiers = dict(Tier.choices)
        out.append({"label": _("Customer tier"), "values": [str(tiers.get(t, t)) for t in c["tiers"]]})
    if c.get("sla_states"):
        states = dict(SlaState.choices)
        out.append({"label": _("SLA state"), "values": [str(states.get(x, x)) for x in c["sla_states"]]})
    if c.get("outside_hours"):
        out.append({"label": _("Outside business hours"), "values": []})
    for row in out:
        row["text"] = (", " if row.get("user") else comma).join(str(v) for v in row["values"])
    return out


@agent_view
def policy_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    rows = [
        {
            "policy": p,
            "conditions": conditions_in_words(p.conditions, desk),
            "levels": len({s.position for s in p.steps.all()}),
        }
        for p in EscalationPolicy.objects.filter(workspace=desk.workspace).prefetch_related("steps")
    ]
    return render(request, "web/oncall/policies.html", {"section": "policies", "rows": rows})


def _targets(desk: Desk) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (_("A person"), [(f"agent:{a.pk}", a.name) for a in _agents(desk)]),
        (
            _("Whoever is on call"),
            [(f"schedule:{s.pk}", s.name) for s in OnCallSchedule.objects.filter(workspace=desk.workspace)],
        ),
        (
            _("A partner provider"),
            [(f"partner:{p.pk}", p.name) for p in Partner.objects.filter(workspace=desk.workspace)],
        ),
    ]


def _step_target(step: EscalationStep) -> str:
    if step.target_kind == TargetKind.AGENT:
        return f"agent:{step.agent_id}"
    if step.target_kind == TargetKind.SCHEDULE:
        return f"schedule:{step.schedule_id}"
    return f"partner:{step.partner_id}"


def _policy_page(
    request: HttpRequest,
    desk: Desk,
    policy: EscalationPolicy | None,
    *,
    post: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The form with the stored policy, or with what was posted when the services refused it (nothing is lost)."""
    c = policy.conditions if policy else {}
    steps = list(policy.steps.all()) if policy else []
    levels: list[dict[str, Any]] = [
        {"level": s.position + 1, "timeout": s.timeout_minutes, "target": _step_target(s)} for s in steps
    ]
    values: dict[str, Any] = {
        "name": policy.name if policy else "",
        "position": policy.position if policy else 0,
        "repeat": policy.repeat if policy else 0,
        "fallback_team": policy.fallback_team_id if policy else None,
        "active": policy.active if policy else True,
        "priorities": c.get("priorities", []),
        "channels": c.get("channels", []),
        "categories": [int(x) for x in c.get("categories", [])],
        "keywords": ", ".join(c.get("keywords", [])),
        "outside_hours": bool(c.get("outside_hours")),
        "tiers": c.get("tiers", []),
        "sla_states": c.get("sla_states", []),
    }
    if post is not None:
        values |= {
            "name": post.get("name", ""),
            "position": post.get("position", ""),
            "repeat": post.get("repeat", ""),
            "fallback_team": int_or_none(post.get("fallback_team")),
            "active": bool(post.get("active")),
            "priorities": post.getlist("priorities"),
            "channels": post.getlist("channels"),
            "categories": [i for i in (int_or_none(v) for v in post.getlist("categories")) if i],
            "keywords": post.get("keywords", ""),
            "outside_hours": bool(post.get("outside_hours")),
            "tiers": post.getlist("tiers"),
            "sla_states": post.getlist("sla_states"),
        }
        levels = [
            {"level": lv, "timeout": t, "target": target}
            for lv, t, target in zip(
                post.getlist("level"), post.getlist("timeout"), post.getlist("target"), strict=False
            )
            if target
        ]
    top = max((int_or_none(row["level"]) or 0 for row in levels), default=0)
    levels += [{"level": top + i + 1, "timeout": 10, "target": ""} for i in range(LEVEL_ROWS)]
    context = {
        "section": "policies",
        "policy": policy,
        "values": values,
        "error": error,
        "priorities": Priority.choices,
        "channels": _channels(),
        "tiers": Tier.choices,
        "sla_states": SlaState.choices,
        "categories": list(Category.objects.filter(workspace=desk.workspace).order_by("name")),
        "teams": list(Team.objects.filter(workspace=desk.workspace)),
        "targets": _targets(desk),
        "levels": levels,
    }
    return render(request, "web/oncall/policy.html", context, status=status)


def _levels(post: Any) -> list[dict[str, Any]]:
    """Rows of (level from 1, timeout, "kind:id"); an empty target leaves the row out."""
    steps = []
    for level, timeout, target in zip(
        post.getlist("level"), post.getlist("timeout"), post.getlist("target"), strict=False
    ):
        kind, _sep, pk = target.partition(":")
        if not target or kind not in ("agent", "schedule", "partner"):
            continue
        number = int_or_none(level)
        steps.append(
            {
                "level": (number - 1) if number else -1,
                "timeout_minutes": int_or_none(timeout) or 0,
                kind: int_or_none(pk),
            }
        )
    return steps


@agent_view
def policy_edit(request: HttpRequest, desk: Desk, policy_id: int | None = None) -> HttpResponse:
    policy = _get(EscalationPolicy, desk, policy_id) if policy_id is not None else None
    _manage(desk)
    if request.method != "POST":
        return _policy_page(request, desk, policy)
    post = request.POST
    conditions: dict[str, Any] = {
        "priorities": post.getlist("priorities"),
        "categories": [i for i in (int_or_none(v) for v in post.getlist("categories")) if i],
        "channels": post.getlist("channels"),
        "keywords": _words(post.get("keywords", "")),
        "outside_hours": bool(post.get("outside_hours")),
        "tiers": [t for t in post.getlist("tiers") if t in Tier.values],
        "sla_states": [x for x in post.getlist("sla_states") if x in SlaState.values],
    }
    conditions = {k: v for k, v in conditions.items() if v}
    try:
        with transaction.atomic():
            saved = policies.policy_save(
                actor=desk.actor,
                workspace=desk.workspace,
                name=post.get("name", ""),
                conditions=conditions,
                repeat=int_or_none(post.get("repeat")) or 0,
                fallback_team=_optional(Team, desk, post.get("fallback_team")),
                active=bool(post.get("active")),
                position=int_or_none(post.get("position")) or 0,
                policy=policy,
            )
            policies.policy_steps_set(actor=desk.actor, policy=saved, steps=_levels(post))
    except DomainError as exc:
        if policy is not None:
            policy.refresh_from_db()
        return _policy_page(request, desk, policy, post=post, error=exc.message, status=exc.status_code)
    return _saved(request, reverse("web:oncall_policies"))


# --- after-hours answers -------------------------------------------------------------------------------------------


def _answers_page(
    request: HttpRequest, desk: Desk, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    errors = errors or {}
    rows = [
        {
            "answer": a,
            "key": f"answer-{a.pk}",
            "error": errors.get(f"answer-{a.pk}", ""),
            "keywords": ", ".join(a.keywords),
        }
        for a in AfterHoursAnswer.objects.filter(workspace=desk.workspace)
    ]
    new = {"answer": None, "key": "answer-new", "error": errors.get("answer-new", ""), "keywords": ""}
    return render(request, "web/oncall/answers.html", {"section": "answers", "rows": rows, "new": new}, status=status)


@agent_view
def answer_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    return _answers_page(request, desk)


@require_POST
@agent_view
def answer_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    post = request.POST
    answer = _optional(AfterHoursAnswer, desk, post.get("id"))
    key = f"answer-{answer.pk if answer else 'new'}"
    try:
        answer = policies.answer_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=post.get("name", ""),
            keywords=_words(post.get("keywords", "")),
            answer_zh=post.get("answer_zh", ""),
            answer_en=post.get("answer_en", ""),
            answer=answer,
        )
    except DomainError as exc:
        return _answers_page(request, desk, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, reverse("web:oncall_answers") + f"#answer-{answer.pk}")


# --- partners ------------------------------------------------------------------------------------------------------


def _partners_page(
    request: HttpRequest, desk: Desk, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    errors = errors or {}
    rows = [
        {
            "partner": p,
            "key": f"partner-{p.pk}",
            "error": errors.get(f"partner-{p.pk}", ""),
            "emails": ", ".join(p.emails),
            "targets": "\n".join(p.targets),
        }
        for p in Partner.objects.filter(workspace=desk.workspace)
    ]
    new = {"partner": None, "key": "partner-new", "error": errors.get("partner-new", ""), "emails": "", "targets": ""}
    context = {
        "section": "partners",
        "rows": rows,
        "new": new,
        "languages": [("zh-hans", "简体中文"), ("en", "English")],
    }
    return render(request, "web/oncall/partners.html", context, status=status)


@agent_view
def partner_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    return _partners_page(request, desk)


@require_POST
@agent_view
def partner_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    _manage(desk)
    post = request.POST
    partner = _optional(Partner, desk, post.get("id"))
    key = f"partner-{partner.pk if partner else 'new'}"
    fields = {
        "name": post.get("name", ""),
        "emails": _words(post.get("emails", "")),
        "targets": [t.strip() for t in post.get("targets", "").splitlines() if t.strip()],
        "language": post.get("language", "zh-hans"),
        "is_active": bool(post.get("is_active")),
    }
    try:
        partner = partners.partner_save(actor=desk.actor, workspace=desk.workspace, fields=fields, partner=partner)
    except DomainError as exc:
        return _partners_page(request, desk, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, reverse("web:oncall_partners") + f"#partner-{partner.pk}")
