"""The public help centre's reads, and its "was this helpful?" votes.

Only a public, published article is ever shown to a customer: every read here filters on both, and a search hit is
checked against the same rule before it is returned, so the rule lives in one place. A workspace's help centre opens
with its first public, published article (until then its slug answers 404, which tells nothing of the workspace).

The votes have no table yet (`AssistFeedback` needs a ticket and an agent): `helpcentre_feedback` counts them in the
`shared` cache, per article, which survives a restart only as long as the cache does. A model is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import caches
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound

from . import retrieval
from .errors import KnowledgeErrorCode
from .models import Article, ArticleStatus, KnowledgeCategory, Visibility

PUBLIC = Q(visibility=Visibility.PUBLIC, status=ArticleStatus.PUBLISHED)
SEARCH_LIMIT = 20
_VOTE_KEY = "pivotdesk.helpcentre.votes:{article_id}:{helpful}"
_VOTES_KEPT = 60 * 60 * 24 * 365


def _not_found() -> NotFound:
    return NotFound(gettext("Not found."), code=KnowledgeErrorCode.NOT_FOUND)


def public_articles(*, workspace_id: int) -> QuerySet[Article]:
    """The workspace's articles a customer may read: public and published."""
    return Article.objects.filter(PUBLIC, workspace_id=workspace_id)


def helpcentre_workspace(*, slug: str) -> Workspace:
    """The workspace whose help centre `slug` names, or NotFound (also while it has no public, published article)."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None or not public_articles(workspace_id=workspace.pk).exists():
        raise _not_found()
    return workspace


def public_article(*, workspace_id: int, article_id: int) -> Article:
    """A public, published article of the workspace, or NotFound (a draft, an internal article and another
    workspace's article are not told apart from none)."""
    article = public_articles(workspace_id=workspace_id).select_related("category").filter(pk=article_id).first()
    if article is None:
        raise _not_found()
    return article


def public_translations(article: Article) -> list[Article]:
    """The article's public, published translations (the other languages of its group)."""
    return list(public_articles(workspace_id=article.workspace_id).filter(group=article.group).exclude(pk=article.pk))


def public_category(*, workspace_id: int, category_id: int) -> KnowledgeCategory:
    """A category of the workspace, or NotFound."""
    category = KnowledgeCategory.objects.filter(workspace_id=workspace_id, pk=category_id).first()
    if category is None:
        raise _not_found()
    return category


def one_per_group(articles: Iterable[Article], *, language: str) -> list[Article]:
    """One article per translation group: the one in `language` where there is one, else another (in order)."""
    chosen: dict[object, Article] = {}
    for article in articles:
        current = chosen.get(article.group)
        if current is None or (current.language != language and article.language == language):
            chosen[article.group] = article
    return list(chosen.values())


def public_listing(*, workspace_id: int, language: str, category_ids: Iterable[int] | None = None) -> list[Article]:
    """The public articles (one per group, in the reader's language where written), optionally of some categories,
    by title."""
    qs = public_articles(workspace_id=workspace_id)
    if category_ids is not None:
        qs = qs.filter(category_id__in=list(category_ids))
    return one_per_group(qs.order_by("title", "pk"), language=language)


@dataclass(frozen=True)
class CategoryCount:
    """A category with how many public articles it and its sections hold."""

    category: KnowledgeCategory
    sections: list[KnowledgeCategory]
    articles: int


def public_categories(*, workspace_id: int) -> list[CategoryCount]:
    """The top-level categories that hold public articles (directly or in a section), in their order."""
    categories = list(KnowledgeCategory.objects.filter(workspace_id=workspace_id).order_by("position", "pk"))
    groups: dict[int, set[object]] = {}
    for category_id, group in public_articles(workspace_id=workspace_id).values_list("category_id", "group"):
        if category_id is not None:
            groups.setdefault(category_id, set()).add(group)
    out = []
    for top in (c for c in categories if c.parent_id is None):
        sections = [c for c in categories if c.parent_id == top.pk]
        found: set[object] = set(groups.get(top.pk, set()))
        for section in sections:
            found |= groups.get(section.pk, set())
        if found:
            out.append(CategoryCount(top, [s for s in sections if groups.get(s.pk)], len(found)))
    return out


def public_search(*, workspace_id: int, query: str, limit: int = SEARCH_LIMIT) -> list[retrieval.Hit]:
    """Hybrid search over the public, published articles only (each hit checked again against the same rule)."""
    hits = retrieval.search_articles(
        workspace_id=workspace_id, query=query[:200], visibility=Visibility.PUBLIC, published_only=True, limit=limit
    )
    allowed = set(
        public_articles(workspace_id=workspace_id)
        .filter(pk__in=[h.object_id for h in hits])
        .values_list("pk", flat=True)
    )
    return [hit for hit in hits if hit.object_id in allowed]


def helpcentre_feedback(article: Article, helpful: bool) -> None:
    """Count one customer's "was this helpful?" answer on a public article (the caller keeps one per visitor).
    Kept in the shared cache until a model for it exists."""
    if article.visibility != Visibility.PUBLIC or article.status != ArticleStatus.PUBLISHED:
        raise _not_found()
    cache = caches["shared"]
    key = _VOTE_KEY.format(article_id=article.pk, helpful=int(helpful))
    if not cache.add(key, 1, timeout=_VOTES_KEPT):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=_VOTES_KEPT)


def helpcentre_feedback_counts(article: Article) -> tuple[int, int]:
    """(helpful, not helpful) answers counted for the article since the cache last kept them."""
    cache = caches["shared"]
    yes = cache.get(_VOTE_KEY.format(article_id=article.pk, helpful=1)) or 0
    no = cache.get(_VOTE_KEY.format(article_id=article.pk, helpful=0)) or 0
    return int(yes), int(no)
