"""URLs of the AI screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.ai import views as ai

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/ai/", ai.ai_panel, name="ai_panel"),
    path("tickets/<int:number>/ai/<int:prediction_id>/correct/", ai.ai_correct, name="ai_correct"),
    path("tickets/<int:number>/ai/<int:prediction_id>/confirm/", ai.ai_confirm, name="ai_confirm"),
    path("insights/ai/", ai.ai_insights, name="ai_insights"),
    path("insights/ai/settings/", ai.ai_settings_save, name="ai_settings_save"),
    path("insights/ai/topics/<int:topic_id>/promote/", ai.ai_topic_promote, name="ai_topic_promote"),
    path("insights/ai/topics/<int:topic_id>/dismiss/", ai.ai_topic_dismiss, name="ai_topic_dismiss"),
]
