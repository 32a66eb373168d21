from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "pivotdesk.web"
    label = "web"
    verbose_name = "Agent workspace"
