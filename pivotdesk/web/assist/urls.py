"""URLs of agent assist on the ticket page and of the grouped search (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.assist.views import panel as views
from pivotdesk.web.assist.views import search

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/assist/", views.assist_panel, name="ticket_assist"),
    path("tickets/<int:number>/assist/feedback/", views.assist_feedback, name="ticket_assist_feedback"),
    path("tickets/<int:number>/resolution/", views.resolution_save, name="ticket_resolution"),
    path("search/", search.search_page, name="search"),
    path("search/suggest/", search.search_suggest, name="search_suggest"),
]
