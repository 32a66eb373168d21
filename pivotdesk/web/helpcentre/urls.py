"""URLs of the public help centre (joined into the `web` namespace by `pivotdesk.web.urls`): `/help/<workspace slug>/`.
No sign-in; only public, published articles."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.helpcentre import views

urlpatterns: list[URLPattern] = [
    path("help/<slug:ws>/", views.home, name="helpcentre_home"),
    path("help/<slug:ws>/search/", views.search, name="helpcentre_search"),
    path("help/<slug:ws>/c/<int:category_id>/", views.category, name="helpcentre_category"),
    path("help/<slug:ws>/a/<int:article_id>/", views.article, name="helpcentre_article"),
    path("help/<slug:ws>/a/<int:article_id>/feedback/", views.feedback, name="helpcentre_feedback"),
]
