"""URL of the customer portal's settings (admins): `/settings/portal/` (joined into the `web` namespace)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.portal_settings import views

urlpatterns: list[URLPattern] = [
    path("settings/portal/", views.portal_settings, name="portal_settings"),
]
