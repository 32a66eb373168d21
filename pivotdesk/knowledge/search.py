"""Articles as a kind of search document (`pivotdesk.search`): found by their title and body, through the same
jieba-cut full-text index as tickets. Registered in `KnowledgeConfig.ready()`."""

from __future__ import annotations

from collections.abc import Iterable

from pivotdesk.search.registry import DocumentKind

from .models import Article

KIND = "article"


def document_parts(article: Article) -> Iterable[str]:
    yield article.title
    yield article.body


ARTICLE_DOCUMENTS = DocumentKind(
    name=KIND, model_label="knowledge.Article", parts=document_parts, only=("title", "body"), own_index=True
)
