"""Public URLs of automation: the approval one-click link (`/approvals/<token>/`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.automation import views

urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.approval_link, name="automation_approval_link"),
]
