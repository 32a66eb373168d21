"""URLs of the agent workspace for sla (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
