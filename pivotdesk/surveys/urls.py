"""Public URLs of the surveys (mounted at `survey/`): the customer's answer page and its thank-you page, addressed by
the survey's signed token (no sign-in)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.surveys import views

app_name = "surveys"
urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.answer, name="answer"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
]
