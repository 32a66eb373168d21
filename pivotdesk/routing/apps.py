from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "pivotdesk.routing"
    label = "routing"
    verbose_name = "Routing and dispatch"
