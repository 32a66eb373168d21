"""URLs of the workforce screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.workforce.views import people, planning, settings

urlpatterns: list[URLPattern] = [
    path("workforce/", people.home, name="workforce_home"),
    path("workforce/me/", people.my_schedule, name="workforce_my_schedule"),
    path("workforce/me/availability/", people.my_availability, name="workforce_my_availability"),
    path("workforce/me/calendar-link/", people.calendar_regenerate, name="workforce_calendar_regenerate"),
    path("workforce/calendar/<str:token>/shifts.ics", people.calendar_feed, name="workforce_calendar_feed"),
    path("workforce/requests/", people.request_list, name="workforce_requests"),
    path("workforce/requests/<int:request_id>/answer/", people.request_answer, name="workforce_request_answer"),
    path("workforce/requests/<int:request_id>/cancel/", people.request_cancel, name="workforce_request_cancel"),
    path("workforce/requests/<int:request_id>/decide/", people.request_decide, name="workforce_request_decide"),
    path("workforce/forecast/", planning.forecast, name="workforce_forecast"),
    path("workforce/forecast/<int:queue_id>/refresh/", planning.forecast_refresh, name="workforce_forecast_refresh"),
    path("workforce/forecast/import/", planning.history_import, name="workforce_history_import"),
    path("workforce/forecast/events/", planning.event_add, name="workforce_event_add"),
    path("workforce/forecast/events/<int:event_id>/delete/", planning.event_delete, name="workforce_event_delete"),
    path("workforce/rosters/", planning.roster_list, name="workforce_rosters"),
    path("workforce/rosters/<int:roster_id>/", planning.roster_detail, name="workforce_roster"),
    path("workforce/rosters/<int:roster_id>/coverage/", planning.roster_coverage, name="workforce_roster_coverage"),
    path("workforce/rosters/<int:roster_id>/publish/", planning.roster_publish, name="workforce_roster_publish"),
    path("workforce/rosters/<int:roster_id>/replan/", planning.roster_replan, name="workforce_roster_replan"),
    path("workforce/rosters/<int:roster_id>/delete/", planning.roster_delete, name="workforce_roster_delete"),
    path("workforce/rosters/<int:roster_id>/shifts/", planning.shift_save, name="workforce_shift_save"),
    path(
        "workforce/rosters/<int:roster_id>/shifts/<int:shift_id>/delete/",
        planning.shift_delete,
        name="workforce_shift_delete",
    ),
    path("workforce/adherence/", planning.adherence_page, name="workforce_adherence"),
    path("workforce/settings/", settings.settings_page, name="workforce_settings"),
    path("workforce/settings/queues/", settings.queue_save, name="workforce_queue_save"),
    path("workforce/settings/queues/<int:queue_id>/delete/", settings.queue_delete, name="workforce_queue_delete"),
    path("workforce/settings/contracts/", settings.contract_save, name="workforce_contract_save"),
    path(
        "workforce/settings/contracts/<int:contract_id>/delete/",
        settings.contract_delete,
        name="workforce_contract_delete",
    ),
    path("workforce/settings/templates/", settings.template_save, name="workforce_template_save"),
    path(
        "workforce/settings/templates/<int:template_id>/delete/",
        settings.template_delete,
        name="workforce_template_delete",
    ),
    path("workforce/settings/agents/<int:agent_id>/", settings.agent_profile_save, name="workforce_agent_profile"),
]
