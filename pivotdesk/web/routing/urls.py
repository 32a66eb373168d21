"""URLs of the routing screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.routing import views as routing

urlpatterns: list[URLPattern] = [
    path("dispatch/", routing.dispatch, name="dispatch"),
    path("dispatch/board/", routing.dispatch_board, name="dispatch_board"),
    path("dispatch/queue/", routing.dispatch_queue, name="dispatch_queue"),
    path("dispatch/backlog/route/", routing.backlog_route, name="dispatch_backlog_route"),
    path("dispatch/tickets/<int:number>/reassign/", routing.reassign, name="routing_reassign"),
    path("dispatch/policies/", routing.policy_list, name="routing_policies"),
    path("dispatch/policies/new/", routing.policy_edit, name="routing_policy_new"),
    path("dispatch/policies/<int:policy_id>/", routing.policy_edit, name="routing_policy"),
    path("dispatch/policies/<int:policy_id>/delete/", routing.policy_delete, name="routing_policy_delete"),
    path("dispatch/policies/<int:policy_id>/preview/", routing.policy_preview, name="routing_policy_preview"),
    path("tickets/<int:number>/decline/", routing.decline, name="routing_decline"),
    path("tickets/<int:number>/field/", routing.field_view, name="routing_field"),
]
