"""SLA screens: the ticket's clock badges (polled), the supervisors' compliance report with CSV export."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import Team
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.choices import Channel
from pivotdesk.common.user_files import download_disposition, protect_user_content
from pivotdesk.customers.models import CustomerOrganization, Tier
from pivotdesk.sla import forms as sla_forms
from pivotdesk.sla import reports
from pivotdesk.sla import selectors as sla_selectors
from pivotdesk.sla.models import BusinessCalendar, Metric, SLAPolicy, TeamCalendar
from pivotdesk.sla.services import team_calendar_set
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Category, Priority, TicketType
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.sla.templatetags import metric_label

CHART_W, CHART_H, CHART_PAD = 1100, 200, 34
FAILURES_SHOWN = 50


@agent_view
def ticket_sla(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The ticket header's badges, one per running clock (refreshed every minute and after a change)."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    return render(request, "web/sla/_ticket_badges.html", {"ticket": ticket})


def _label(dimension: str, key: str) -> str:
    if dimension == "priority":
        return str(Priority(key).label) if key in Priority.values else key
    if dimension == "channel":
        return str(Channel(key).label) if key in Channel.values else key
    if dimension == "metric":
        return metric_label(key)
    if not key:
        return _("(no team)") if dimension == "team" else _("(none)")
    return key


def _chart(daily: list[tuple[dt.date, reports.Share]]) -> dict[str, Any]:
    """Geometry of the inline SVG bar chart: compliance % per day, a bar's colour by level, empty days shown."""
    n = max(1, len(daily))
    inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD
    step = inner_w / n
    bar_w = max(2.0, step * 0.7)
    bars = []
    every = max(1, n // 8)
    for i, (day, share) in enumerate(daily):
        x = CHART_PAD + i * step + (step - bar_w) / 2
        pct = share.percent
        height = inner_h * (pct or 0) / 100 if pct is not None else 0
        level = "none" if pct is None else "good" if pct >= 90 else "fair" if pct >= 75 else "poor"
        bars.append(
            {
                "x": round(x, 1),
                "y": round(CHART_PAD + inner_h - height, 1),
                "w": round(bar_w, 1),
                "h": round(max(height, 1.5 if pct is not None else 0), 1),
                "level": level,
                "title": f"{day.isoformat()}: "
                + (f"{pct}% ({share.achieved}/{share.total})" if pct is not None else _("no targets ended")),
                "label": day.strftime("%m-%d") if i % every == 0 else "",
                "label_x": round(CHART_PAD + i * step + step / 2, 1),
            }
        )
    # 90 % gets a line but no label: it would overlap the 100 % label.
    grid = [
        {"y": round(CHART_PAD + inner_h * (1 - v / 100), 1), "label": "" if v == 90 else f"{v}%"}
        for v in (0, 50, 75, 90, 100)
    ]
    return {
        "w": CHART_W,
        "h": CHART_H,
        "bars": bars,
        "grid": grid,
        "left": CHART_PAD,
        "right": CHART_W - CHART_PAD,
        "base": CHART_H - CHART_PAD + 14,
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


@agent_view
def report(request: HttpRequest, desk: Desk) -> HttpResponseBase:
    """Compliance over a date range (default the last 30 days) by policy, team, priority, channel and metric, a
    chart per day, the breaches with their causes; `?format=csv` exports every counted target."""
    require(desk.agent, Perm.REPORTS_VIEW)
    period = reports.DateRange.parse(
        request.GET.get("start", "").strip() or None,
        request.GET.get("end", "").strip() or None,
        time_zone=desk.workspace.time_zone,
    )
    metric = request.GET.get("metric", "").strip()
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        rows: Iterator[list[str]] = reports.csv_rows(workspace=desk.workspace, period=period, metric=metric)
        response = StreamingHttpResponse(
            ("\ufeff" if i == 0 else "") + writer.writerow(row) for i, row in enumerate(rows)
        )
        response["Content-Type"] = "text/csv; charset=utf-8"
        name = f"sla-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        response["Content-Disposition"] = download_disposition(name)
        return protect_user_content(response=response)  # the rows hold customers' text
    data = reports.compliance(workspace=desk.workspace, period=period, metric=metric)
    dimensions = [
        ("policy", _("By policy")),
        ("team", _("By team")),
        ("priority", _("By priority")),
        ("channel", _("By channel")),
        ("metric", _("By target")),
    ]
    breakdowns = [
        {
            "key": key,
            "title": title,
            "rows": [{"label": _label(key, s.key), "share": s} for s in data.by[key]],
        }
        for key, title in dimensions
    ]
    return render(
        request,
        "web/sla/report.html",
        {
            "report": data,
            "period": period,
            "metric": metric,
            "metrics": [(m, metric_label(m)) for m in Metric.values],
            "breakdowns": breakdowns,
            "chart": _chart(data.daily),
            "breaches": reports.breaches(workspace=desk.workspace, period=period, metric=metric),
            "breach_limit": reports.BREACH_LIMIT,
            "failing_checks": sla_selectors.failing_checks(workspace=desk.workspace).count(),
        },
    )


# --- settings (admins) ---------------------------------------------------------------------------------------------


def _admin(desk: Desk) -> None:
    """Whether the settings screens show at all: the permission the SLA configuration services check on save."""
    require(desk.agent, Perm.SLA_CONFIGURE)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """After a save: HTMX follows HX-Redirect, a plain form a 302."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


@agent_view
def calendars(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Business calendars of the workspace, and which calendar each team works by (saved with POST)."""
    _admin(desk)
    teams = list(Team.objects.filter(workspace=desk.workspace).order_by("name", "pk"))
    current = dict(TeamCalendar.objects.filter(workspace=desk.workspace).values_list("team_id", "calendar_id"))
    rows = list(BusinessCalendar.objects.filter(workspace=desk.workspace).order_by("name"))
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        choices, errors = _team_calendar_choices(request, teams, {c.pk: c for c in rows})
        if not errors:
            changed = 0
            for team in teams:
                calendar = choices[team.pk]
                if (calendar.pk if calendar is not None else None) != current.get(team.pk):
                    team_calendar_set(team=team, calendar=calendar, actor=desk.actor)
                    changed += 1
            messages.success(
                request,
                ngettext("%(n)d team calendar saved.", "%(n)d team calendars saved.", changed) % {"n": changed},
            )
            return _done(request, reverse("web:sla_calendars") + "#team-calendars")
        status = 422
        current = {team.pk: calendar.pk for team in teams if (calendar := choices.get(team.pk)) is not None}
    used = {p.calendar_id for p in SLAPolicy.objects.filter(workspace=desk.workspace, calendar__isnull=False)}
    default = next((c for c in rows if c.is_default), None)
    context = {
        "rows": rows,
        "used": used,
        "weekdays": sla_forms.WEEKDAYS,
        "teams": [{"team": team, "calendar_id": current.get(team.pk)} for team in teams],
        "default": default,
        "team_errors": errors,
    }
    return render(request, "web/sla/calendars.html", context, status=status)


def _team_calendar_choices(
    request: HttpRequest, teams: list[Team], calendars: dict[int, BusinessCalendar]
) -> tuple[dict[int, BusinessCalendar | None], list[str]]:
    """The posted calendar of every team ("" = the workspace default); unknown values are readable errors."""
    choices: dict[int, BusinessCalendar | None] = {}
    errors: list[str] = []
    for team in teams:
        raw = request.POST.get(f"team_{team.pk}", "").strip()
        if not raw:
            choices[team.pk] = None
            continue
        calendar = calendars.get(int(raw)) if raw.isdigit() else None
        if calendar is None:
            errors.append(_("%(team)s: choose one of the calendars listed.") % {"team": team.name})
            choices[team.pk] = None
            continue
        choices[team.pk] = calendar
    return choices, errors


def _calendar_page(
    request: HttpRequest, desk: Desk, form: sla_forms.CalendarForm, calendar: BusinessCalendar | None, status: int = 200
) -> HttpResponse:
    preview = None
    if calendar is not None and form.is_bound is False:
        preview = _preview(desk, calendar)
    context = {"form": form, "calendar": calendar, "preview": preview, "zones": _zones()}
    return render(request, "web/sla/calendar_form.html", context, status=status)


def _zones() -> list[str]:
    import zoneinfo

    common = [
        "Asia/Shanghai",
        "Asia/Hong_Kong",
        "Asia/Taipei",
        "Asia/Tokyo",
        "Asia/Singapore",
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "America/Los_Angeles",
        "UTC",
    ]
    return common + sorted(zoneinfo.available_timezones() - set(common))


def _preview(desk: Desk, calendar: BusinessCalendar) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from pivotdesk.common.time import now

    today = now().astimezone(ZoneInfo(calendar.time_zone)).date()
    days, closed = sla_forms.business_days_preview(calendar, start=today)
    return {"days": days, "closed": closed, "today": today}


@agent_view
def calendar_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Add a business calendar."""
    _admin(desk)
    return _calendar_edit(request, desk, None)


@agent_view
def calendar_edit(request: HttpRequest, desk: Desk, calendar_id: int) -> HttpResponse:
    """Change a business calendar."""
    _admin(desk)
    return _calendar_edit(request, desk, sla_forms.access_calendar(workspace=desk.workspace, calendar_id=calendar_id))


def _calendar_edit(request: HttpRequest, desk: Desk, calendar: BusinessCalendar | None) -> HttpResponse:
    if request.method != "POST":
        form = sla_forms.CalendarForm(workspace=desk.workspace, instance=calendar)
        return _calendar_page(request, desk, form, calendar)
    form = sla_forms.CalendarForm(request.POST, workspace=desk.workspace, instance=calendar)
    if not form.is_valid():
        return _calendar_page(request, desk, form, calendar, status=422)
    row = sla_forms.calendar_save(workspace=desk.workspace, actor=desk.actor, form=form, calendar=calendar)
    messages.success(request, _("Calendar “%(name)s” saved.") % {"name": row.name})
    return _done(request, reverse("web:sla_calendar_edit", args=[row.pk]))


@require_POST
@agent_view
def calendar_preview(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The next ten business days of the calendar as typed (not saved), or the form's errors."""
    _admin(desk)
    form = sla_forms.CalendarForm(request.POST, workspace=desk.workspace)
    form.fields["name"].required = False
    if not form.is_valid():
        errors = [
            f"{form[name].label}: {' '.join(str(e) for e in errs)}"
            for name, errs in form.errors.items()
            if name != "name"
        ]
        if errors:
            return render(request, "web/sla/_preview.html", {"errors": errors}, status=422)
    row = BusinessCalendar(workspace=desk.workspace, **{k: v for k, v in form.values().items() if k != "is_default"})
    return render(request, "web/sla/_preview.html", {"preview": _preview(desk, row)})


@require_POST
@agent_view
def calendar_delete(request: HttpRequest, desk: Desk, calendar_id: int) -> HttpResponse:
    """Delete a calendar (policies using it fall back to the team's or default calendar)."""
    _admin(desk)
    row = sla_forms.access_calendar(workspace=desk.workspace, calendar_id=calendar_id)
    sla_forms.calendar_delete(calendar=row, actor=desk.actor)
    messages.success(request, _("Calendar “%(name)s” deleted.") % {"name": row.name})
    return HttpResponseRedirect(reverse("web:sla_calendars"))


@agent_view
def policies(request: HttpRequest, desk: Desk) -> HttpResponse:
    """SLA policies in the order they are tried."""
    _admin(desk)
    rows = list(
        SLAPolicy.objects.filter(workspace=desk.workspace)
        .select_related("calendar")
        .prefetch_related("targets", "escalations")
        .order_by("position", "pk")
    )
    failing = sla_selectors.failing_checks(workspace=desk.workspace)
    failures = {"count": failing.count(), "rows": list(failing[:FAILURES_SHOWN])}
    for row in rows:
        row.condition_labels = condition_labels(row.conditions or {}, workspace_id=desk.workspace.pk)  # type: ignore[attr-defined]
    return render(request, "web/sla/policies.html", {"rows": rows, "failures": failures})


def condition_labels(conditions: dict[str, Any], *, workspace_id: int) -> list[tuple[str, str]]:
    """A policy's conditions as (what, which) in the reader's language: labels for codes, names for ids."""
    zh = (get_language() or "").lower().startswith("zh")
    choices: dict[str, dict[str, str]] = {
        "priorities": {str(v): str(lbl) for v, lbl in Priority.choices},
        "tiers": {str(v): str(lbl) for v, lbl in Tier.choices},
        "channels": {str(v): str(lbl) for v, lbl in Channel.choices},
        "ticket_types": {str(v): str(lbl) for v, lbl in TicketType.choices},
    }
    heading = {
        "priorities": _("Priority"),
        "tiers": _("Customer tier"),
        "channels": _("Channel"),
        "ticket_types": _("Type"),
        "category_ids": _("Category"),
        "organization_ids": _("Organization"),
        "tags_any": _("Has any of the tags"),
        "tags_all": _("Has all of the tags"),
        "tags_none": _("Has none of the tags"),
    }
    out: list[tuple[str, str]] = []
    for key, values in conditions.items():
        items = [str(v) for v in (values or [])]
        if not items:
            continue
        if key in choices:
            names = [choices[key].get(v, v) for v in items]
        elif key == "category_ids":
            found = Category.objects.filter(workspace_id=workspace_id, pk__in=[int(v) for v in items if v.isdigit()])
            names = [(c.name_zh if zh and c.name_zh else c.name) for c in found]
        elif key == "organization_ids":
            orgs = CustomerOrganization.objects.filter(
                workspace_id=workspace_id, pk__in=[int(v) for v in items if v.isdigit()]
            )
            names = [o.name for o in orgs]
        else:
            names = items
        out.append((str(heading.get(key, key)), "、".join(names) if zh else ", ".join(names)))
    return out


def _policy_page(
    request: HttpRequest,
    desk: Desk,
    *,
    form: sla_forms.PolicyForm,
    policy: SLAPolicy | None,
    cells: list[sla_forms.TargetCell],
    levels: list[sla_forms.LevelRow],
    status: int = 200,
) -> HttpResponse:
    grid = [
        {"metric": metric, "label": metric_label(metric), "cells": [c for c in cells if c.metric == metric]}
        for metric in Metric.values
    ]
    blank = sla_forms.LevelRow(index=len(levels), level=str(len(levels) + 1))
    context = {
        "form": form,
        "policy": policy,
        "grid": grid,
        "priorities": Priority.choices,
        "levels": [*levels, blank],
        "level_count": len(levels) + 1,
        "metrics": [(m, metric_label(m)) for m in Metric.values],
        "notify_choices": [
            ("assignee", _("Assignee")),
            ("team_lead", _("Team lead")),
            ("supervisors", _("Supervisors")),
        ],
        **sla_forms.escalation_choices(desk.workspace),
        "has_errors": status != 200,
    }
    return render(request, "web/sla/policy_form.html", context, status=status)


@agent_view
def policy_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Add an SLA policy (it goes last in the order)."""
    _admin(desk)
    return _policy_edit(request, desk, None)


@agent_view
def policy_edit(request: HttpRequest, desk: Desk, policy_id: int) -> HttpResponse:
    """Change an SLA policy: conditions, calendar, paused statuses, targets grid, escalation levels."""
    _admin(desk)
    return _policy_edit(request, desk, sla_forms.access_policy(workspace=desk.workspace, policy_id=policy_id))


def _policy_edit(request: HttpRequest, desk: Desk, policy: SLAPolicy | None) -> HttpResponse:
    if request.method != "POST":
        form = sla_forms.PolicyForm(workspace=desk.workspace, instance=policy)
        return _policy_page(
            request,
            desk,
            form=form,
            policy=policy,
            cells=sla_forms.target_cells(policy),
            levels=sla_forms.level_rows(policy),
        )
    form = sla_forms.PolicyForm(request.POST, workspace=desk.workspace, instance=policy)
    cells = sla_forms.parse_target_cells(request.POST)
    levels = sla_forms.parse_level_rows(request.POST, workspace=desk.workspace)
    valid = form.is_valid()
    if not valid or any(c.error for c in cells) or any(r.error for r in levels):
        return _policy_page(request, desk, form=form, policy=policy, cells=cells, levels=levels, status=422)
    row = sla_forms.policy_save(
        workspace=desk.workspace, actor=desk.actor, form=form, cells=cells, levels=levels, policy=policy
    )
    messages.success(request, _("Policy “%(name)s” saved.") % {"name": row.name})
    return _done(request, reverse("web:sla_policy_edit", args=[row.pk]))


@require_POST
@agent_view
def policy_move(request: HttpRequest, desk: Desk, policy_id: int) -> HttpResponse:
    """Move a policy up or down in the order."""
    _admin(desk)
    row = sla_forms.access_policy(workspace=desk.workspace, policy_id=policy_id)
    sla_forms.policy_move(policy=row, actor=desk.actor, direction=request.POST.get("direction", ""))
    return HttpResponseRedirect(reverse("web:sla_policies"))


@require_POST
@agent_view
def policy_delete(request: HttpRequest, desk: Desk, policy_id: int) -> HttpResponse:
    """Delete a policy."""
    _admin(desk)
    row = sla_forms.access_policy(workspace=desk.workspace, policy_id=policy_id)
    sla_forms.policy_delete(policy=row, actor=desk.actor)
    messages.success(request, _("Policy “%(name)s” deleted.") % {"name": row.name})
    return HttpResponseRedirect(reverse("web:sla_policies"))
