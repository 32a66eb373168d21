from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "pivotdesk.cli"
    label = "cli"
    verbose_name = "Command line"
