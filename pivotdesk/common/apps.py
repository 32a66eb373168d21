from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "pivotdesk.common"
    label = "common"
    verbose_name = "Common"
