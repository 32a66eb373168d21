from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "pivotdesk.search"
    label = "search"
    verbose_name = "Search"
