"""URLs of the webhook screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.webhooks import views as webhooks

urlpatterns: list[URLPattern] = [
    path("settings/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("settings/webhooks/<int:endpoint_id>/rotate-secret/", webhooks.webhook_rotate_secret, name="webhook_rotate"),
]
