"""URLs of the AI screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.ai import views as ai

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/ai/", ai.ai_panel, name="ai_panel"),
    path("tickets/<int:number>/ai/<int:prediction_id>/correct/", ai.ai_correct, name="ai_correct"),
    path("tickets/<int:number>/ai/<int:prediction_id>/confirm/", ai.ai_confirm, name="ai_confirm"),
    path("insights/ai/", ai.ai_insights, name="ai_insights"),
]
