"""URLs of the night-duty screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.oncall import views

urlpatterns: list[URLPattern] = [
    path("on-call/", views.schedule_list, name="oncall_schedules"),
    path("on-call/schedules/new/", views.schedule_save, name="oncall_schedule_save"),
    path("on-call/schedules/<int:schedule_id>/", views.schedule_detail, name="oncall_schedule"),
    path("on-call/schedules/<int:schedule_id>/layers/", views.layer_save, name="oncall_layer_save"),
    path("on-call/schedules/<int:schedule_id>/overrides/", views.override_add, name="oncall_override_add"),
    path("on-call/me/override/", views.my_override, name="oncall_my_override"),
    path("on-call/pages/", views.page_list, name="oncall_pages"),
    path("on-call/pages/<int:page_id>/acknowledge/", views.page_acknowledge, name="oncall_page_acknowledge"),
    path("on-call/pages/<int:page_id>/resolve/", views.page_resolve, name="oncall_page_resolve"),
    path("on-call/tickets/<int:number>/page/", views.ticket_page_oncall, name="oncall_page_ticket"),
    path("on-call/policies/", views.policy_list, name="oncall_policies"),
    path("on-call/policies/new/", views.policy_edit, name="oncall_policy_new"),
    path("on-call/policies/<int:policy_id>/", views.policy_edit, name="oncall_policy"),
    path("on-call/answers/", views.answer_list, name="oncall_answers"),
    path("on-call/answers/save/", views.answer_save, name="oncall_answer_save"),
    path("on-call/partners/", views.partner_list, name="oncall_partners"),
    path("on-call/partners/save/", views.partner_save, name="oncall_partner_save"),
]
