"""URLs of the knowledge screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.knowledge import views

urlpatterns: list[URLPattern] = [
    path("knowledge/", views.article_list, name="knowledge_articles"),
    path("knowledge/articles/new/", views.article_new, name="knowledge_article_new"),
    path("knowledge/articles/preview/", views.article_preview, name="knowledge_article_preview"),
    path("knowledge/articles/<int:article_id>/", views.article_page, name="knowledge_article"),
    path("knowledge/articles/<int:article_id>/edit/", views.article_edit, name="knowledge_article_edit"),
    path("knowledge/articles/<int:article_id>/translate/", views.article_translate, name="knowledge_article_translate"),
    path("knowledge/articles/<int:article_id>/diff/", views.article_diff, name="knowledge_article_diff"),
    path("knowledge/articles/<int:article_id>/restore/", views.article_restore, name="knowledge_article_restore"),
    path("knowledge/categories/", views.category_list, name="knowledge_categories"),
    path("knowledge/categories/<int:category_id>/", views.category_edit, name="knowledge_category"),
    path("knowledge/categories/<int:category_id>/move/", views.category_move, name="knowledge_category_move"),
]
