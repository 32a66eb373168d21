from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "pivotdesk.notifications"
    label = "notifications"
    verbose_name = "Notifications"
