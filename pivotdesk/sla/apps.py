from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "pivotdesk.sla"
    label = "sla"
    verbose_name = "Service levels"
