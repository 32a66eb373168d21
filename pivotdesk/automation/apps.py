from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "pivotdesk.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from pivotdesk.automation import notify  # noqa: F401 - registers the notification renderers
