"""URLs of the settings area (the in-app admin, issue 18), joined into the `web` namespace by `web/urls.py`."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.settings_admin.views import home, invite, people, tickets

urlpatterns: list[URLPattern] = [
    path("settings/", home.settings_home, name="settings_home"),
    path("settings/agents/", people.agent_list, name="settings_agents"),
    path("settings/agents/invite/", people.agent_invite, name="settings_invite"),
    path("settings/agents/<int:agent_id>/", people.agent_edit, name="settings_agent"),
    path("settings/agents/<int:agent_id>/active/", people.agent_active, name="settings_agent_active"),
    path(
        "settings/invitations/<int:invitation_id>/resend/", people.invitation_resend, name="settings_invitation_resend"
    ),
    path(
        "settings/invitations/<int:invitation_id>/revoke/", people.invitation_revoke, name="settings_invitation_revoke"
    ),
    path("settings/teams/", people.team_list, name="settings_teams"),
    path("settings/teams/<int:team_id>/", people.team_edit, name="settings_team"),
    path("settings/tokens/", people.token_list, name="settings_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", people.token_revoke, name="settings_token_revoke"),
    path("settings/categories/", tickets.category_list, name="settings_categories"),
    path("settings/categories/<int:ticket_category_id>/", tickets.category_edit, name="settings_category"),
    path("settings/statuses/", tickets.status_list, name="settings_statuses"),
    path("settings/statuses/<int:status_id>/", tickets.status_edit, name="settings_status"),
    path("settings/statuses/<int:status_id>/move/", tickets.status_move, name="settings_status_move"),
    path("settings/fields/", tickets.field_list, name="settings_fields"),
    path("settings/fields/new/", tickets.field_new, name="settings_field_new"),
    path("settings/fields/<int:field_id>/", tickets.field_edit, name="settings_field"),
    path("settings/fields/<int:field_id>/move/", tickets.field_move, name="settings_field_move"),
    path("settings/tags/", tickets.tag_list, name="settings_tags"),
    path("settings/tags/<int:tag_id>/", tickets.tag_edit, name="settings_tag"),
    path("invite/<str:token>/", invite.invitation_accept, name="invitation_accept"),
]
