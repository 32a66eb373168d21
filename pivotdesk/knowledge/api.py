"""REST endpoints of the knowledge base: categories, articles (with their translations), versions and restore."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router, Status

from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.accounts.schemas import ErrorOut, Id
from pivotdesk.common.errors import NotFound
from pivotdesk.common.pagination import paginate

from . import retrieval, selectors, services
from .domain import versions as versions_domain
from .errors import KnowledgeErrorCode
from .models import Article, ArticleVersion, KnowledgeCategory
from .schemas import (
    ArticleIn,
    ArticleListQuery,
    ArticleOut,
    ArticlePage,
    CategoryIn,
    CategoryOut,
    RestoreIn,
    SearchHitOut,
    SearchQuery,
    VersionOut,
)

router = Router(tags=["knowledge"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _article(ctx: ApiContext, article_id: int) -> Article:
    article = Article.objects.filter(workspace=ctx.workspace, pk=article_id).first()
    if article is None:
        raise NotFound(gettext("No such article."), code=KnowledgeErrorCode.NOT_FOUND)
    return article


def _category(ctx: ApiContext, category_id: int | None) -> KnowledgeCategory | None:
    if category_id is None:
        return None
    category = KnowledgeCategory.objects.filter(workspace=ctx.workspace, pk=category_id).first()
    if category is None:
        raise NotFound(gettext("No such category."), code=KnowledgeErrorCode.NOT_FOUND)
    return category


def _agent(ctx: ApiContext, agent_id: int | None) -> AgentProfile | None:
    if agent_id is None:
        return None
    agent = AgentProfile.objects.filter(workspace=ctx.workspace, pk=agent_id).first()
    if agent is None:
        raise NotFound(gettext("No such agent."), code=KnowledgeErrorCode.NOT_FOUND)
    return agent


def _out(article: Article) -> dict[str, Any]:
    translations = Article.objects.filter(workspace_id=article.workspace_id, group=article.group).exclude(pk=article.pk)
    return {
        "id": article.pk,
        "title": article.title,
        "body": article.body,
        "language": article.language,
        "category_id": article.category_id,
        "visibility": article.visibility,
        "status": article.status,
        "owner_id": article.owner_id,
        "reviewer_id": article.reviewer_id,
        "review_due": article.review_due,
        "version": article.version,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "translations": [
            {"id": t.pk, "language": t.language, "title": t.title, "status": t.status}
            for t in translations.order_by("language")
        ],
    }


# --- categories --------------------------------------------------------------------------------------------------


def _category_out(c: KnowledgeCategory) -> dict[str, Any]:
    return {"id": c.pk, "name_zh": c.name_zh, "name_en": c.name_en, "parent_id": c.parent_id, "position": c.position}


@router.get("/knowledge/categories/", response=list[CategoryOut], summary="Knowledge categories and sections")
def list_categories(request: HttpRequest) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    return [_category_out(c) for c in KnowledgeCategory.objects.filter(workspace=ctx.workspace)]


@router.post("/knowledge/categories/", response={201: CategoryOut, **ERRORS}, summary="Add a category or section")
def create_category(request: HttpRequest, data: CategoryIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.KNOWLEDGE_MANAGE)  # the permission first: a role that may not add one learns nothing
    category = services.category_save(
        actor=ctx.actor,
        workspace=ctx.workspace,
        name_zh=data.name_zh,
        name_en=data.name_en,
        parent=_category(ctx, data.parent_id),
        position=data.position,
    )
    return Status(201, _category_out(category))


# --- articles ----------------------------------------------------------------------------------------------------


@router.get("/knowledge/articles/", response=ArticlePage, summary="Articles (filters; a query ranks by relevance)")
def list_articles(request: HttpRequest, params: Query[ArticleListQuery]) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    qs = selectors.articles(
        workspace_id=ctx.workspace.pk,
        query=params.q,
        language=params.language,
        visibility=params.visibility,
        status=params.status,
        category_id=params.category_id,
    )
    page = paginate(qs, limit=params.limit, offset=params.offset)
    items = [
        {
            "id": a.pk,
            "title": a.title,
            "language": a.language,
            "category_id": a.category_id,
            "visibility": a.visibility,
            "status": a.status,
            "version": a.version,
            "updated_at": a.updated_at,
        }
        for a in page.items
    ]
    return page.body(items)


def _save(ctx: ApiContext, data: ArticleIn, article: Article | None) -> Article:
    translation_of = _article(ctx, data.translation_of) if data.translation_of is not None else None
    return services.article_save(
        actor=ctx.actor,
        workspace=ctx.workspace,
        title=data.title,
        body=data.body,
        language=data.language,
        category=_category(ctx, data.category_id),
        visibility=data.visibility,
        status=data.status,
        owner=_agent(ctx, data.owner_id),
        reviewer=_agent(ctx, data.reviewer_id),
        review_due=data.review_due,
        translation_of=translation_of,
        note=data.note,
        article=article,
    )


@router.post("/knowledge/articles/", response={201: ArticleOut, **ERRORS}, summary="Write an article")
def create_article(request: HttpRequest, data: ArticleIn) -> Status[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.KNOWLEDGE_MANAGE)
    return Status(201, _out(_save(ctx, data, None)))


@router.get("/knowledge/articles/{article_id}/", response={200: ArticleOut, 404: ErrorOut}, summary="An article")
def get_article(request: HttpRequest, article_id: Id) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    return _out(_article(ctx, article_id))


@router.put(
    "/knowledge/articles/{article_id}/",
    response={200: ArticleOut, **ERRORS},
    summary="Save an article (a new version when the title or body changed)",
)
def update_article(request: HttpRequest, article_id: Id, data: ArticleIn) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.KNOWLEDGE_MANAGE)
    return _out(_save(ctx, data, _article(ctx, article_id)))


@router.get(
    "/knowledge/articles/{article_id}/versions/",
    response={200: list[VersionOut], 404: ErrorOut},
    summary="Every saved version, newest first, with the lines each added and removed",
)
def list_versions(request: HttpRequest, article_id: Id) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    saved = list(ArticleVersion.objects.filter(article=_article(ctx, article_id)).order_by("version"))
    out, previous = [], ""
    for v in saved:
        # a final line ending is not a line of its own
        added, removed = versions_domain.summary(previous.removesuffix("\n"), v.body.removesuffix("\n"))
        out.append(
            {
                "version": v.version,
                "title": v.title,
                "saved_by_id": v.saved_by_id,
                "note": v.note,
                "created_at": v.created_at,
                "lines_added": added,
                "lines_removed": removed,
            }
        )
        previous = v.body
    return out[::-1]


@router.post(
    "/knowledge/articles/{article_id}/restore/",
    response={200: ArticleOut, **ERRORS},
    summary="Bring back a version (saved as a new one)",
)
def restore_version(request: HttpRequest, article_id: Id, data: RestoreIn) -> dict[str, Any]:
    ctx = context(request)
    require(ctx.agent, Perm.KNOWLEDGE_MANAGE)
    return _out(services.article_restore(actor=ctx.actor, article=_article(ctx, article_id), version=data.version))


# --- search ------------------------------------------------------------------------------------------------------


@router.get(
    "/knowledge/search/", response=list[SearchHitOut], summary="Hybrid search (keyword + meaning) over articles"
)
def search(request: HttpRequest, params: Query[SearchQuery]) -> list[dict[str, Any]]:
    ctx = context(request)
    require(ctx.agent, Perm.TICKET_VIEW)
    hits = retrieval.search_articles(
        workspace_id=ctx.workspace.pk, query=params.q, language=params.language, visibility=params.visibility,
        category_id=params.category_id, published_only=False, limit=params.limit,
    )  # fmt: skip
    return [
        {
            "id": h.object_id,
            "title": h.title,
            "language": h.language,
            "visibility": h.visibility,
            "score": round(h.score, 6),
            "similarity": round(h.similarity, 4),
            "snippet": "".join(part for part, _ in h.snippet),
            "highlights": [p for p, marked in h.snippet if marked],
        }
        for h in hits
    ]
