from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "pivotdesk.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge")

    def ready(self) -> None:
        from pivotdesk.knowledge.search import ARTICLE_DOCUMENTS
        from pivotdesk.search.registry import register_kind

        register_kind(ARTICLE_DOCUMENTS)  # articles are found by the same full-text index as tickets
