from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OncallConfig(AppConfig):
    name = "pivotdesk.oncall"
    label = "oncall"
    verbose_name = _("Night duty")

    def ready(self) -> None:
        from pivotdesk.oncall import notify  # noqa: F401 - registers the notification renderers
