"""The article editor: a new article, an article's changes, a translation (the other language, in the same group),
and the live preview of the text. Only knowledge managers open it (403 otherwise); every save goes through
`knowledge.services.article_save`, whose refusal comes back on the form, readable."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.common.errors import DomainError, ValidationFailed
from pivotdesk.knowledge import services
from pivotdesk.knowledge.errors import KnowledgeErrorCode
from pivotdesk.knowledge.models import Article, ArticleLanguage, ArticleStatus, KnowledgeCategory, Visibility
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.knowledge.forms import ArticleForm, service_errors
from pivotdesk.web.knowledge.rendering import reader_is_chinese, render_markdown
from pivotdesk.web.knowledge.views.common import get_article, get_category, must_manage, saved, status_of

PREVIEW_LIMIT = 200_000


def _page(
    request: HttpRequest,
    desk: Desk,
    form: ArticleForm,
    *,
    article: Article | None = None,
    source: Article | None = None,
    status: int = 200,
) -> HttpResponse:
    if article is not None:
        action = reverse("web:knowledge_article_edit", args=[article.pk])
    elif source is not None:
        action = reverse("web:knowledge_article_translate", args=[source.pk])
    else:
        action = reverse("web:knowledge_article_new")
    context = {"section": "articles", "form": form, "article": article, "source": source, "action": action}
    return render(request, "web/knowledge/editor.html", context, status=status)


def _initial(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "body": article.body,
        "language": article.language,
        "category": article.category_id,
        "visibility": article.visibility,
        "status": article.status,
        "owner": article.owner_id,
        "reviewer": article.reviewer_id,
        "review_due": article.review_due,
    }


def _category(desk: Desk, value: int | None) -> KnowledgeCategory | None:
    return get_category(desk, value) if value is not None else None


def _save(
    request: HttpRequest,
    desk: Desk,
    form: ArticleForm,
    *,
    article: Article | None = None,
    source: Article | None = None,
) -> HttpResponse:
    if not form.is_valid():
        return _page(request, desk, form, article=article, source=source, status=400)
    data = form.cleaned_data
    try:
        result = services.article_save(
            actor=desk.actor,
            workspace=desk.workspace,
            title=data["title"],
            body=data["body"],
            language=data["language"],
            category=_category(desk, data["category"]),
            visibility=data["visibility"],
            status=data["status"],
            owner=data["owner"],
            reviewer=data["reviewer"],
            review_due=data["review_due"],
            translation_of=source,
            note=data["note"],
            article=article,
        )
    except DomainError as exc:
        service_errors(form, exc.details, exc.message)
        return _page(request, desk, form, article=article, source=source, status=status_of(exc))
    return saved(request, reverse("web:knowledge_article", args=[result.pk]))


@agent_view
def article_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """A new article (a draft for agents only, owned by its writer, unless chosen otherwise)."""
    must_manage(desk)
    if request.method == "POST":
        return _save(request, desk, ArticleForm(request.POST, workspace=desk.workspace))
    language = ArticleLanguage.ZH if reader_is_chinese() else ArticleLanguage.EN
    initial = {
        "language": language,
        "visibility": Visibility.INTERNAL,
        "status": ArticleStatus.DRAFT,
        "owner": desk.agent.pk,
    }
    return _page(request, desk, ArticleForm(initial=initial, workspace=desk.workspace))


@agent_view
def article_edit(request: HttpRequest, desk: Desk, article_id: int) -> HttpResponse:
    """An article's editor: a change of title or text is a new version."""
    must_manage(desk)
    article = get_article(desk, article_id)
    if request.method == "POST":
        return _save(request, desk, ArticleForm(request.POST, workspace=desk.workspace), article=article)
    return _page(request, desk, ArticleForm(initial=_initial(article), workspace=desk.workspace), article=article)


def _missing_language(source: Article) -> str:
    written = set(
        Article.objects.filter(workspace_id=source.workspace_id, group=source.group).values_list("language", flat=True)
    )
    missing = [code for code in ArticleLanguage.values if code not in written]
    if not missing:
        raise ValidationFailed(
            _("This article is written in every language already."), code=KnowledgeErrorCode.DUPLICATE_TRANSLATION
        )
    return missing[0]


@agent_view
def article_translate(request: HttpRequest, desk: Desk, article_id: int) -> HttpResponse:
    """A translation of an article: the other language, in the same group; it starts as a draft holding the text
    to translate."""
    must_manage(desk)
    source = get_article(desk, article_id)
    if request.method == "POST":
        return _save(request, desk, ArticleForm(request.POST, workspace=desk.workspace), source=source)
    initial = {
        **_initial(source),
        "language": _missing_language(source),
        "status": ArticleStatus.DRAFT,
        "owner": desk.agent.pk,
    }
    return _page(request, desk, ArticleForm(initial=initial, workspace=desk.workspace), source=source)


@require_POST
@agent_view
def article_preview(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The editor's text rendered as readers will see it (sanitised), for the live preview."""
    must_manage(desk)
    body = request.POST.get("body", "")[:PREVIEW_LIMIT]
    return render(request, "web/knowledge/_preview.html", {"html": render_markdown(body)})
