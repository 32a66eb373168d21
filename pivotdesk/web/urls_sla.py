"""URLs of the agent workspace for sla (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.views import sla

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/sla/", sla.ticket_sla, name="ticket_sla"),
    path("sla/report/", sla.report, name="sla_report"),
]
