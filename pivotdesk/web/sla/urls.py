"""URLs of the sla screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.sla import views as sla

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/sla/", sla.ticket_sla, name="ticket_sla"),
    path("sla/report/", sla.report, name="sla_report"),
    path("settings/sla/policies/", sla.policies, name="sla_policies"),
    path("settings/sla/policies/new/", sla.policy_new, name="sla_policy_new"),
    path("settings/sla/policies/<int:policy_id>/", sla.policy_edit, name="sla_policy_edit"),
    path("settings/sla/policies/<int:policy_id>/move/", sla.policy_move, name="sla_policy_move"),
    path("settings/sla/policies/<int:policy_id>/delete/", sla.policy_delete, name="sla_policy_delete"),
    path("settings/sla/calendars/", sla.calendars, name="sla_calendars"),
    path("settings/sla/calendars/new/", sla.calendar_new, name="sla_calendar_new"),
    path("settings/sla/calendars/preview/", sla.calendar_preview, name="sla_calendar_preview"),
    path("settings/sla/calendars/<int:calendar_id>/", sla.calendar_edit, name="sla_calendar_edit"),
    path("settings/sla/calendars/<int:calendar_id>/delete/", sla.calendar_delete, name="sla_calendar_delete"),
]
