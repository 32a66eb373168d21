from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "pivotdesk.workforce"
    label = "workforce"
    verbose_name = _("Workforce")

    def ready(self) -> None:
        from pivotdesk.workforce import notify  # noqa: F401 - registers the notification renderers
