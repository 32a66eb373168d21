"""The composition root as an app: installs the event dispatcher once every app is loaded."""

from django.apps import AppConfig


class CompositionRootConfig(AppConfig):
    name = "config"
    label = "composition_root"
    verbose_name = "Composition root"

    def ready(self) -> None:
        from config.subscribers import install

        install()
