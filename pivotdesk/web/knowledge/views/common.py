"""What the knowledge screens share: who may read (TICKET_VIEW) and who may write (KNOWLEDGE_MANAGE, the services'
own gate, asked here only to show or hide an affordance), finding an article or a category of this workspace."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.common.errors import DomainError, NotFound, PermissionDenied
from pivotdesk.knowledge.errors import KnowledgeErrorCode
from pivotdesk.knowledge.models import Article, KnowledgeCategory
from pivotdesk.web.base import Desk, int_or_none


def reads(desk: Desk) -> None:
    """The knowledge screens are for those who see tickets: every agent role."""
    require(desk.agent, Perm.TICKET_VIEW)


def manages(agent: AgentProfile) -> bool:
    """Whether the knowledge services would accept this person's changes (supervisors and admins)."""
    return can(agent, Perm.KNOWLEDGE_MANAGE)


def must_manage(desk: Desk) -> None:
    require(desk.agent, Perm.KNOWLEDGE_MANAGE)


def _not_found() -> NotFound:
    return NotFound(_("Not found."), code=KnowledgeErrorCode.NOT_FOUND)


def get_article(desk: Desk, article_id: Any) -> Article:
    """An article of the desk's workspace, or 404 (another workspace's article is not told apart from none)."""
    article = (
        Article.objects.select_related("category", "owner__user", "reviewer__user")
        .filter(workspace=desk.workspace, pk=int_or_none(article_id) or 0)
        .first()
    )
    if article is None:
        raise _not_found()
    return article


def get_category(desk: Desk, category_id: Any) -> KnowledgeCategory:
    """A category of the desk's workspace, or 404."""
    category = KnowledgeCategory.objects.filter(workspace=desk.workspace, pk=int_or_none(category_id) or 0).first()
    if category is None:
        raise _not_found()
    return category


def status_of(error: DomainError) -> int:
    """The status a refused form is shown with: 403 for a permission, 409 for a conflict, 400 otherwise."""
    if isinstance(error, PermissionDenied):
        return 403
    return 409 if error.status_code == 409 else 400


def saved(request: HttpRequest, url: str, message: str = "") -> HttpResponse:
    messages.success(request, message or _("Saved."))
    return HttpResponseRedirect(url)
