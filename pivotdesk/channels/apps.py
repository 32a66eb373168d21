from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "pivotdesk.channels"
    label = "channels"
    verbose_name = "Channels"
