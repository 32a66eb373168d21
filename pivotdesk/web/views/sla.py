"""SLA screens: the ticket's clock badges (polled), the supervisors' compliance report with CSV export."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.choices import Channel
from pivotdesk.sla import reports
from pivotdesk.sla.models import Metric
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Priority
from pivotdesk.web.views.base import Desk, agent_view

CHART_W, CHART_H, CHART_PAD = 760, 180, 28


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
        return str(Metric(key).label) if key in Metric.values else key
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
    grid = [{"y": round(CHART_PAD + inner_h * (1 - v / 100), 1), "label": f"{v}%"} for v in (0, 50, 75, 90, 100)]
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
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
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
            "metrics": Metric.choices,
            "breakdowns": breakdowns,
            "chart": _chart(data.daily),
            "breaches": reports.breaches(workspace=desk.workspace, period=period, metric=metric),
            "breach_limit": reports.BREACH_LIMIT,
        },
    )
