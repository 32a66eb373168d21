from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "pivotdesk.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from pivotdesk.common import length_guard

        length_guard.install()
