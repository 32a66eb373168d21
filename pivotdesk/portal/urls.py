"""URLs of the customer portal, mounted at `/portal/` by `config.urls` (namespace `portal`). Every page names the
workspace by its slug; a request by its number, a file by its id — both looked up for the signed-in customer
only (`portal.selectors`, 404 otherwise)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.portal import views

app_name = "portal"
urlpatterns: list[URLPattern] = [
    path("<slug:ws>/", views.home, name="home"),
    path("<slug:ws>/signin/", views.signin, name="signin"),
    path("<slug:ws>/signin/code/", views.signin_code, name="signin_code"),
    path("<slug:ws>/m/<str:secret>/", views.magic, name="magic"),
    path("<slug:ws>/t/<str:token>/", views.follow, name="follow"),
    path("<slug:ws>/stop/<str:token>/", views.opt_out, name="opt_out"),
    path("<slug:ws>/signout/", views.signout, name="signout"),
    path("<slug:ws>/language/", views.language, name="language"),
    path("<slug:ws>/requests/", views.requests, name="requests"),
    path("<slug:ws>/requests/new/", views.request_new, name="request_new"),
    path("<slug:ws>/requests/<int:number>/", views.request_detail, name="request"),
    path("<slug:ws>/requests/<int:number>/rate/", views.request_rate, name="request_rate"),
    path("<slug:ws>/requests/<int:number>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<slug:ws>/settings/", views.preferences, name="preferences"),
    path("<slug:ws>/theme.css", views.theme_css, name="theme_css"),
    path("<slug:ws>/logo", views.logo, name="logo"),
]
