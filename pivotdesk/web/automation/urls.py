"""URLs of the automation screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.automation import views

urlpatterns: list[URLPattern] = [
    path("automation/rules/", views.rule_list, name="automation_rules"),
    path("automation/rules/new/", views.rule_edit, name="automation_rule_new"),
    path("automation/rules/<int:rule_id>/", views.rule_edit, name="automation_rule"),
    path("automation/rules/<int:rule_id>/active/", views.rule_toggle, name="automation_rule_toggle"),
    path("automation/rules/<int:rule_id>/move/", views.rule_move, name="automation_rule_move"),
    path("automation/rules/<int:rule_id>/delete/", views.rule_delete, name="automation_rule_delete"),
    path("automation/rules/<int:rule_id>/preview/", views.rule_preview, name="automation_rule_preview"),
    path("automation/rules/<int:rule_id>/runs/", views.rule_runs, name="automation_rule_runs"),
    path("automation/flows/", views.flow_list, name="automation_flows"),
    path("automation/flows/new/", views.flow_edit, name="automation_flow_new"),
    path("automation/flows/<int:flow_id>/", views.flow_edit, name="automation_flow"),
    path("automation/chain-templates/", views.chain_template_list, name="automation_chain_templates"),
    path("automation/chain-templates/new/", views.chain_template_edit, name="automation_chain_template_new"),
    path("automation/chain-templates/<int:template_id>/", views.chain_template_edit, name="automation_chain_template"),
]
