"""URLs of the knowledge graph screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.knowledge_graph import views

urlpatterns: list[URLPattern] = [
    path("knowledge/graph/", views.entity_list, name="knowledge_graph"),
    path("knowledge/graph/<int:entity_id>/", views.entity_page, name="knowledge_graph_entity"),
]
