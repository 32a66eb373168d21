"""URLs of the live-update stream (joined into the `web` namespace by `pivotdesk.web.urls`). The path starts with
`/live/`: `config/asgi.py` serves it from the event loop, everything else from the thread pool."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.live import views

urlpatterns: list[URLPattern] = [
    path("live/stream/", views.stream, name="live_stream"),
]
