"""URLs of the notifications screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.notifications import views as v

urlpatterns: list[URLPattern] = [
    path("notifications/", v.notification_list, name="notifications"),
    path("notifications/bell/", v.bell, name="notifications_bell"),
    path("notifications/dropdown/", v.dropdown, name="notifications_dropdown"),
    path("notifications/read-all/", v.read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/open/", v.open_notification, name="notification_open"),
    path("notifications/<int:notification_id>/read/", v.mark_read, name="notification_read"),
    path("notifications/preferences/", v.preferences, name="notification_preferences"),
    path("notifications/targets/", v.target_add, name="notification_target_add"),
    path("notifications/targets/<int:target_id>/test/", v.target_test, name="notification_target_test"),
    path("notifications/targets/<int:target_id>/toggle/", v.target_toggle, name="notification_target_toggle"),
    path("notifications/targets/<int:target_id>/delete/", v.target_delete, name="notification_target_delete"),
    path("notifications/deliveries/", v.delivery_log, name="notification_deliveries"),
    path("notifications/deliveries/<int:delivery_id>/retry/", v.delivery_retry, name="notification_delivery_retry"),
]
