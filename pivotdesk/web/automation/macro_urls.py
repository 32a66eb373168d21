"""URLs of the macro screens (joined into the `web` namespace by `pivotdesk.web.urls`, like `automation.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.automation.views import macros

urlpatterns: list[URLPattern] = [
    path("automation/macros/", macros.macro_list, name="automation_macros"),
    path("automation/macros/new/", macros.macro_edit, name="automation_macro_new"),
    path("automation/macros/<int:macro_id>/", macros.macro_edit, name="automation_macro"),
    path("automation/macros/<int:macro_id>/delete/", macros.macro_delete, name="automation_macro_delete"),
]
