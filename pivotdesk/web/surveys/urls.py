"""URLs of the satisfaction screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.surveys import views

urlpatterns: list[URLPattern] = [
    path("satisfaction/", views.report, name="surveys_report"),
    path("satisfaction/campaigns/", views.campaigns, name="surveys_campaigns"),
    path("satisfaction/campaigns/new/", views.campaign_new, name="surveys_campaign_new"),
    path("satisfaction/campaigns/<int:campaign_id>/", views.campaign_edit, name="surveys_campaign_edit"),
    path("satisfaction/campaigns/<int:campaign_id>/run/", views.campaign_run, name="surveys_campaign_run"),
    path("satisfaction/settings/", views.settings_save, name="surveys_settings"),
    path("tickets/<int:number>/csat/", views.ticket_csat, name="ticket_csat"),
]
