"""URLs of the automation panels of the ticket page (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.automation.views import ticket

urlpatterns: list[URLPattern] = [
    path("tickets/<int:number>/macros/", ticket.macro_search, name="ticket_macros"),
    path("tickets/<int:number>/macros/<int:macro_id>/", ticket.macro_preview, name="ticket_macro_preview"),
    path("tickets/<int:number>/macros/<int:macro_id>/apply/", ticket.macro_apply, name="ticket_macro_apply"),
    path("tickets/<int:number>/approval/start/", ticket.approval_start, name="ticket_approval_start"),
    path(
        "tickets/<int:number>/approval/<int:approval_id>/decide/",
        ticket.approval_decide,
        name="ticket_approval_decide",
    ),
    path(
        "tickets/<int:number>/approval/<int:approval_id>/resubmit/",
        ticket.approval_resubmit,
        name="ticket_approval_resubmit",
    ),
]
