from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "pivotdesk.ai"
    label = "ai"
    verbose_name = "AI triage"
