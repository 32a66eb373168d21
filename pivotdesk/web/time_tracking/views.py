"""The "Time spent" section of the ticket page (total, mine, add an entry, the list, delete), the ticket page's
automatic reports, and the time report per agent and category (supervisors and admins), with a CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.common.user_files import download_disposition, protect_user_content
from pivotdesk.sla.reports import DateRange
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Ticket
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.time_tracking.labels import duration_label
from pivotdesk.workforce import timesheets
from pivotdesk.workforce.services import time_tracking as time_services
from pivotdesk.workforce.time_models import TimeSource


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _panel(request: HttpRequest, desk: Desk, ticket: Ticket, *, status: int = 200, **extra: Any) -> HttpResponse:
    time = timesheets.ticket_time(ticket=ticket, agent=desk.agent)
    manage_all = can(desk.agent, Perm.WORKFORCE_MANAGE)
    rows = [
        {
            "entry": entry,
            "duration": duration_label(entry.seconds),
            "automatic": entry.source == TimeSource.AUTOMATIC,
            "may_delete": manage_all or entry.agent_id == desk.agent.pk,
        }
        for entry in time.entries
    ]
    context = {
        "ticket": ticket,
        "total": duration_label(time.total),
        "mine": duration_label(time.mine),
        "total_seconds": time.total,
        "rows": rows,
        "may_log": can(desk.agent, Perm.TICKET_NOTE),
        "may_report": can(desk.agent, Perm.REPORTS_VIEW),
        **extra,
    }
    return render(request, "web/time_tracking/_panel.html", context, status=status)


@agent_view
def time_panel(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The section's content: totals, the add form and the entries (loaded by the ticket page)."""
    return _panel(request, desk, _ticket(desk, number))


@agent_view
def time_add(request: HttpRequest, desk: Desk, number: int) -> HttpResponseBase:
    """POST: log time by hand ("15m", "1h 30m", "1:30"); answers the refreshed section (or goes back to the
    ticket without HTMX)."""
    ticket = _ticket(desk, number)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))
    time_services.time_entry_add(
        ticket=ticket,
        actor=desk.actor,
        duration=request.POST.get("duration", ""),
        note=request.POST.get("note", ""),
    )
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))
    return _panel(request, desk, ticket, added=True)


@agent_view
def time_delete(request: HttpRequest, desk: Desk, number: int) -> HttpResponseBase:
    """POST `entry`: delete one's own entry (supervisors: anyone's)."""
    ticket = _ticket(desk, number)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))
    entry = timesheets.access_time_entry(ticket=ticket, entry_id=int_or_none(request.POST.get("entry")) or 0)
    time_services.time_entry_delete(entry=entry, actor=desk.actor)
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))
    return _panel(request, desk, ticket)


@agent_view
def time_track(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """POST from `time_tracking.js` (fetch every minute, `sendBeacon` on leaving): `page` (a random id per page
    view) and `seconds` (active seconds on that page so far). Answers 204."""
    ticket = _ticket(desk, number)
    if request.method != "POST":
        return HttpResponse(status=405)
    seconds = int_or_none(request.POST.get("seconds")) or 0
    time_services.time_entry_track(
        ticket=ticket, actor=desk.actor, page=request.POST.get("page", ""), active_seconds=seconds
    )
    return HttpResponse(status=204)


class _Echo:
    def write(self, value: str) -> str:
        return value


@agent_view
def time_report(request: HttpRequest, desk: Desk) -> HttpResponseBase:
    """Hours per agent and per category over a date range (default the last 30 days, the workspace's local days);
    `?format=csv` exports the agent × category rows."""
    require(desk.agent, Perm.REPORTS_VIEW)
    period = DateRange.parse(
        request.GET.get("start", "").strip() or None,
        request.GET.get("end", "").strip() or None,
        time_zone=desk.workspace.time_zone,
    )
    chinese = (get_language() or "").lower().startswith("zh")
    report = timesheets.time_report(workspace=desk.workspace, since=period.since, until=period.until, chinese=chinese)
    if request.GET.get("format") == "csv":
        headers = [
            _("Agent"),
            _("Category"),
            _("Entries"),
            _("Tickets"),
            _("Hours logged by hand"),
            _("Hours tracked automatically"),
            _("Hours"),
        ]
        rows: Iterator[list[str]] = timesheets.time_csv_rows(
            report=report, headers=headers, no_category=_("No category")
        )
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            ("\ufeff" if i == 0 else "") + writer.writerow(row) for i, row in enumerate(rows)
        )
        response["Content-Type"] = "text/csv; charset=utf-8"
        response["Content-Disposition"] = download_disposition(
            f"time-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        )
        return protect_user_content(response=response)
    top = max([row.seconds for row in report.by_agent + report.by_category] or [1])
    context = {
        "period": period,
        "report": report,
        "total": duration_label(report.total.seconds),
        "by_agent": [_bar(row, top) for row in report.by_agent],
        "by_category": [_bar(row, top) for row in report.by_category],
        "by_agent_category": [(agent, _bar(row, top)) for agent, row in report.by_agent_category],
    }
    return render(request, "web/time_tracking/report.html", context)


def _bar(row: timesheets.TimeRow, top: int) -> dict[str, Any]:
    return {"row": row, "duration": duration_label(row.seconds), "width": round(100 * row.seconds / top) if top else 0}
