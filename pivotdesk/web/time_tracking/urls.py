"""URLs of time tracking (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.time_tracking import views

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/time/", views.time_panel, name="time_panel"),
    path("tickets/<int:number>/time/add/", views.time_add, name="time_add"),
    path("tickets/<int:number>/time/delete/", views.time_delete, name="time_delete"),
    path("tickets/<int:number>/time/track/", views.time_track, name="time_track"),
    path("reports/time/", views.time_report, name="time_report"),
]
