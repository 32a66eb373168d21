"""Public URLs of oncall: the page links (`/oncall/a/<token>/` acknowledge, `/oncall/r/<token>/` resolve)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.oncall import views

urlpatterns: list[URLPattern] = [
    path("a/<str:token>/", views.acknowledge, name="oncall_ack"),
    path("r/<str:token>/", views.resolve, name="oncall_resolve"),
]
