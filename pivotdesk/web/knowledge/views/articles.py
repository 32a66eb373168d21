"""The article list (filters, and the hybrid search with highlighted snippets), the article page (the rendered text,
its translations, who owns and reviews it, its versions), a diff between two versions, and restoring one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.common.errors import NotFound
from pivotdesk.knowledge import helpcentre, retrieval, selectors, services
from pivotdesk.knowledge.domain.versions import diff_lines, summary
from pivotdesk.knowledge.errors import KnowledgeErrorCode
from pivotdesk.knowledge.models import (
    Article,
    ArticleLanguage,
    ArticleStatus,
    ArticleVersion,
    KnowledgeCategory,
    Visibility,
)
from pivotdesk.web.base import PAGE_SIZE, Desk, agent_view, int_or_none
from pivotdesk.web.knowledge.rendering import category_choices, category_path, render_markdown
from pivotdesk.web.knowledge.views.common import get_article, manages, must_manage, reads, saved

SEARCH_LIMIT = 50
MAX_QUERY = 200
MAX_VERSIONS = 100


@dataclass(frozen=True)
class Filters:
    """The list's filters as asked for; a value that is not a choice is dropped."""

    q: str = ""
    language: str = ""
    visibility: str = ""
    status: str = ""
    category: int | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Filters:
        get = request.GET

        def choice(name: str, values: list[str]) -> str:
            value = get.get(name, "")
            return value if value in values else ""

        return cls(
            q=get.get("q", "").replace("\x00", "").strip()[:MAX_QUERY],
            language=choice("language", ArticleLanguage.values),
            visibility=choice("visibility", Visibility.values),
            status=choice("status", ArticleStatus.values),
            category=int_or_none(get.get("category")),
        )


@dataclass(frozen=True)
class Row:
    """One article of the list, with the snippet a search found in it (pieces, the matches marked)."""

    article: Article
    snippet: list[tuple[str, bool]]
    category: str = ""


def _searched(desk: Desk, f: Filters) -> list[Row]:
    hits = retrieval.search_articles(
        workspace_id=desk.workspace.pk,
        query=f.q,
        language=f.language or None,
        visibility=f.visibility or None,
        category_id=f.category,
        published_only=f.status == ArticleStatus.PUBLISHED,
        limit=SEARCH_LIMIT,
    )
    rows = Article.objects.filter(workspace=desk.workspace, pk__in=[h.object_id for h in hits])
    if f.status:
        rows = rows.filter(status=f.status)
    found = {a.pk: a for a in rows.select_related("category", "owner__user")}
    return [Row(found[h.object_id], h.snippet) for h in hits if h.object_id in found]


@agent_view
def article_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every article of the workspace, filtered; with a query, those the hybrid search finds, best first."""
    reads(desk)
    f = Filters.of(request)
    page = None
    if f.q:
        rows = _searched(desk, f)
    else:
        qs = selectors.articles(
            workspace_id=desk.workspace.pk,
            language=f.language or None,
            visibility=f.visibility or None,
            status=f.status or None,
            category_id=f.category,
        ).select_related("category", "owner__user")
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [Row(a, []) for a in page.object_list]
    categories = list(KnowledgeCategory.objects.filter(workspace=desk.workspace))
    by_id = {c.pk: c for c in categories}
    paths = {c.pk: category_path(c, by_id) for c in categories}
    context = {
        "section": "articles",
        "filters": f,
        "rows": [Row(r.article, r.snippet, paths.get(r.article.category_id or 0, "")) for r in rows],
        "page": page,
        "categories": category_choices(categories),
        "languages": ArticleLanguage.choices,
        "visibilities": Visibility.choices,
        "statuses": ArticleStatus.choices,
        "may_manage": manages(desk.agent),
    }
    return render(request, "web/knowledge/articles.html", context)


def _version_rows(article: Article) -> list[dict[str, Any]]:
    """The versions, newest first, each with the lines it added and removed from the one before."""
    versions = list(
        ArticleVersion.objects.filter(article=article).select_related("saved_by__user").order_by("version")
    )[-MAX_VERSIONS:]
    rows, previous = [], None
    for v in versions:
        added, removed = summary(previous.body if previous else "", v.body)
        rows.append({"v": v, "added": added, "removed": removed, "previous": previous.version if previous else None})
        previous = v
    return rows[::-1]


def public_url(article: Article) -> str:
    """The article's address in the public help centre, when it is public and published ("" otherwise)."""
    if article.visibility != Visibility.PUBLIC or article.status != ArticleStatus.PUBLISHED:
        return ""
    try:
        return reverse("web:helpcentre_article", args=[article.workspace.slug, article.pk])
    except NoReverseMatch:  # the help centre's URLs are not joined in
        return ""


@agent_view
def article_page(request: HttpRequest, desk: Desk, article_id: int) -> HttpResponse:
    """The article as readers see it, its translations, owner, reviewer and review date, and its versions."""
    reads(desk)
    article = get_article(desk, article_id)
    translations = list(
        Article.objects.filter(workspace=desk.workspace, group=article.group)
        .exclude(pk=article.pk)
        .order_by("language")
    )
    written = {article.language, *(t.language for t in translations)}
    yes, no = helpcentre.helpcentre_feedback_counts(article)
    by_id = {c.pk: c for c in KnowledgeCategory.objects.filter(workspace=desk.workspace)}
    context = {
        "section": "articles",
        "article": article,
        "category": category_path(article.category, by_id) if article.category else "",
        "html": render_markdown(article.body),
        "translations": translations,
        "may_translate": len(written) < len(ArticleLanguage.values),
        "versions": _version_rows(article),
        "helpful": yes,
        "not_helpful": no,
        "public_url": public_url(article),
        "may_manage": manages(desk.agent),
    }
    return render(request, "web/knowledge/article.html", context)


def _version(article: Article, number: int | None) -> ArticleVersion:
    found = ArticleVersion.objects.filter(article=article, version=number or 0).select_related("saved_by__user").first()
    if found is None:
        raise NotFound(_("This article has no such version."), code=KnowledgeErrorCode.NOT_FOUND)
    return found


@agent_view
def article_diff(request: HttpRequest, desk: Desk, article_id: int) -> HttpResponse:
    """What changed between two versions (`from`, `to`; by default the latest and the one before)."""
    reads(desk)
    article = get_article(desk, article_id)
    to = int_or_none(request.GET.get("to")) or article.version
    start = int_or_none(request.GET.get("from"))
    new = _version(article, to)
    old = _version(article, start if start is not None else max(1, to - 1))
    context = {
        "section": "articles",
        "article": article,
        "old": old,
        "new": new,
        "lines": diff_lines(old.body, new.body),
        "title_changed": old.title != new.title,
        "numbers": list(ArticleVersion.objects.filter(article=article).values_list("version", flat=True)),
        "may_manage": manages(desk.agent),
    }
    return render(request, "web/knowledge/diff.html", context)


@require_POST
@agent_view
def article_restore(request: HttpRequest, desk: Desk, article_id: int) -> HttpResponse:
    """Bring back a version's title and text, as a new version (for knowledge managers, as the service says)."""
    must_manage(desk)
    article = get_article(desk, article_id)
    number = int_or_none(request.POST.get("version"))
    if number is None:
        raise NotFound(_("This article has no such version."), code=KnowledgeErrorCode.NOT_FOUND)
    restored = services.article_restore(actor=desk.actor, article=article, version=number)
    message = _("Version %(old)s is back, as version %(new)s.") % {"old": number, "new": restored.version}
    return saved(request, reverse("web:knowledge_article", args=[article.pk]), message)
