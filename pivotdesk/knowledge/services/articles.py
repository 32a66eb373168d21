"""Writing the knowledge base: categories, articles (every change of title or body a new version), restoring a
version, and linking translations. Each service asks the gate for `Perm.KNOWLEDGE_MANAGE`."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.search.services import document_build

from ..errors import KnowledgeErrorCode
from ..events import ArticlePublished
from ..models import Article, ArticleLanguage, ArticleStatus, ArticleVersion, KnowledgeCategory, Visibility
from ..search import KIND

MAX_TITLE = 255
MAX_BODY = 200_000
MAX_NAME = 120


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=KnowledgeErrorCode.INVALID_VALUE, details={field: message})


def category_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name_zh: str,
    name_en: str = "",
    parent: KnowledgeCategory | None = None,
    position: int = 0,
    category: KnowledgeCategory | None = None,
) -> KnowledgeCategory:
    """Create a category (a section when it has a parent), or rename / move `category`."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    name_zh, name_en = without_nul(name_zh or "").strip(), without_nul(name_en or "").strip()
    if not name_zh or len(name_zh) > MAX_NAME or len(name_en) > MAX_NAME:
        raise _invalid(
            gettext("A category needs a Chinese name of 1 to %(n)s characters.") % {"n": MAX_NAME}, "name_zh"
        )
    for other in (parent, category):
        if other is not None and other.workspace_id != workspace.pk:
            raise NotFound(gettext("No such category."), code=KnowledgeErrorCode.NOT_FOUND)
    if category is not None and parent is not None:
        ancestor: KnowledgeCategory | None = parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise _invalid(gettext("A category cannot be inside itself."), "parent")
            ancestor = ancestor.parent
    try:
        with transaction.atomic():
            if category is None:
                return KnowledgeCategory.objects.create(
                    workspace=workspace, name_zh=name_zh, name_en=name_en, parent=parent, position=max(0, position)
                )
            category.name_zh, category.name_en, category.parent, category.position = (
                name_zh,
                name_en,
                parent,
                max(0, position),
            )
            category.save()
            return category
    except IntegrityError as exc:
        raise Conflict(
            gettext("A category named “%(name)s” exists already here.") % {"name": name_zh},
            code=KnowledgeErrorCode.DUPLICATE_NAME,
        ) from exc


def _clean(title: str, body: str, language: str, visibility: str, status: str) -> tuple[str, str]:
    title, body = without_nul(title or "").strip(), without_nul(body or "")
    if not title or len(title) > MAX_TITLE:
        raise _invalid(gettext("An article needs a title of 1 to %(n)s characters.") % {"n": MAX_TITLE}, "title")
    if len(body) > MAX_BODY:
        raise _invalid(gettext("The article is longer than %(n)s characters.") % {"n": MAX_BODY}, "body")
    if language not in ArticleLanguage.values:
        raise _invalid(gettext("The language is Chinese (zh-hans) or English (en)."), "language")
    if visibility not in Visibility.values:
        raise _invalid(gettext("An article is internal or public."), "visibility")
    if status not in ArticleStatus.values:
        raise _invalid(gettext("An article is a draft, published or archived."), "status")
    return title, body


def _same_workspace(workspace: Workspace, *objects: object) -> None:
    for obj in objects:
        if obj is not None and getattr(obj, "workspace_id", workspace.pk) != workspace.pk:
            raise NotFound(gettext("Not found."), code=KnowledgeErrorCode.NOT_FOUND)


def article_save(
    *,
    actor: Actor,
    workspace: Workspace,
    title: str,
    body: str = "",
    language: str = ArticleLanguage.ZH,
    category: KnowledgeCategory | None = None,
    visibility: str = Visibility.INTERNAL,
    status: str = ArticleStatus.DRAFT,
    owner: AgentProfile | None = None,
    reviewer: AgentProfile | None = None,
    review_due: dt.date | None = None,
    translation_of: Article | None = None,
    note: str = "",
    article: Article | None = None,
) -> Article:
    """Create an article (a translation of `translation_of` when given: same group, another language), or save
    `article`. A change of title or body is a new version (kept, restorable); publishing, or a new version of a
    published article, publishes `knowledge.article_published`."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    title, body = _clean(title, body, language, visibility, status)
    _same_workspace(workspace, category, owner, reviewer, translation_of, article)
    agent = actor.agent
    try:
        with transaction.atomic():
            if article is None:
                article = Article.objects.create(
                    workspace=workspace,
                    group=translation_of.group if translation_of is not None else uuid.uuid4(),
                    language=language,
                    title=title,
                    body=body,
                    category=category,
                    visibility=visibility,
                    status=status,
                    owner=owner or agent,
                    reviewer=reviewer,
                    review_due=review_due,
                    published_at=now() if status == ArticleStatus.PUBLISHED else None,
                )
                changed, was_published = True, False
            else:
                article = Article.objects.select_for_update().get(pk=article.pk)
                changed = (article.title, article.body) != (title, body)
                was_published = article.status == ArticleStatus.PUBLISHED
                article.version += 1 if changed else 0
                article.title, article.body, article.language = title, body, language
                article.category, article.visibility, article.status = category, visibility, status
                article.owner, article.reviewer, article.review_due = owner or article.owner, reviewer, review_due
                if status == ArticleStatus.PUBLISHED and not was_published:
                    article.published_at = now()
                article.save()
            if changed:
                ArticleVersion.objects.create(
                    workspace=workspace,
                    article=article,
                    version=article.version,
                    title=title,
                    body=body,
                    saved_by=agent,
                    note=without_nul(note or "").strip()[:255],
                )
            if status == ArticleStatus.PUBLISHED and (changed or not was_published):
                publish(
                    ArticlePublished(
                        workspace_id=workspace.pk,
                        article_id=article.pk,
                        version=article.version,
                        visibility=article.visibility,
                    )
                )
        article_id = article.pk
        transaction.on_commit(
            lambda: document_build(kind=KIND, object_id=article_id)
        )  # found at once, not at the sweep
    except IntegrityError as exc:
        raise Conflict(
            gettext("This article has a translation in that language already."),
            code=KnowledgeErrorCode.DUPLICATE_TRANSLATION,
        ) from exc
    return article


def article_restore(*, actor: Actor, article: Article, version: int) -> Article:
    """Bring back what the article said at `version`, as a new version (nothing is lost: the one it replaces is
    kept too)."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=article.workspace_id)
    old = ArticleVersion.objects.filter(article=article, version=version).first()
    if old is None:
        raise NotFound(gettext("This article has no such version."), code=KnowledgeErrorCode.NOT_FOUND)
    return article_save(
        actor=actor,
        workspace=article.workspace,
        title=old.title,
        body=old.body,
        language=article.language,
        category=article.category,
        visibility=article.visibility,
        status=article.status,
        owner=article.owner,
        reviewer=article.reviewer,
        review_due=article.review_due,
        note=gettext("Restored version %(n)s") % {"n": version},
        article=article,
    )
