"""Reading the knowledge base: an agent's article list (filters, and the search index's ranking for a query)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from pivotdesk.search import selectors as search_selectors

from .models import Article
from .search import KIND


def articles(
    *,
    workspace_id: int,
    query: str = "",
    language: str | None = None,
    visibility: str | None = None,
    status: str | None = None,
    category_id: int | None = None,
) -> QuerySet[Article]:
    """The workspace's articles with the filters given; for a query, those the index finds, best match first (a
    title that holds the query as typed also counts, for an article saved a moment ago)."""
    qs = Article.objects.filter(workspace_id=workspace_id)
    if language:
        qs = qs.filter(language=language)
    if visibility:
        qs = qs.filter(visibility=visibility)
    if status:
        qs = qs.filter(status=status)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    query = query.strip()
    if not query:
        return qs.order_by("-updated_at", "-pk")
    ranked = search_selectors.ranked_ids(kind=KIND, workspace_id=workspace_id, query=query)
    found = qs.filter(pk__in=ranked) | qs.filter(title__icontains=query)
    position = search_selectors.rank_position(ranked)
    if position is None:
        return found.order_by("-updated_at", "-pk")
    return found.annotate(rank=position).order_by(F("rank").asc(nulls_last=True), "-updated_at", "-pk")
