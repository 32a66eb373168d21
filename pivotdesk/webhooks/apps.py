from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "pivotdesk.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"
