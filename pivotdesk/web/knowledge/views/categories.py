"""Categories and their sections: the tree (everyone who reads the knowledge base), adding one, renaming or moving
one into another category, and the order (managers; every change through `knowledge.services.category_save`)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.common.errors import DomainError
from pivotdesk.knowledge import services
from pivotdesk.knowledge.models import Article, KnowledgeCategory
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.knowledge.forms import CategoryForm, service_errors
from pivotdesk.web.knowledge.rendering import category_choices
from pivotdesk.web.knowledge.views.common import get_category, manages, must_manage, reads, saved, status_of


def _tree(desk: Desk) -> list[dict[str, object]]:
    """The categories in tree order, each with its depth, its article count and whether it can move up or down."""
    categories = list(KnowledgeCategory.objects.filter(workspace=desk.workspace))
    by_id = {c.pk: c for c in categories}
    counts: dict[int, int] = {}
    for category_id in Article.objects.filter(workspace=desk.workspace).values_list("category_id", flat=True):
        if category_id is not None:
            counts[category_id] = counts.get(category_id, 0) + 1
    rows = []
    for pk, label in category_choices(categories):
        category = by_id[pk]
        siblings = sorted(
            (c for c in categories if c.parent_id == category.parent_id), key=lambda c: (c.position, c.pk)
        )
        rows.append(
            {
                "category": category,
                "label": label,
                "depth": label.count("›"),
                "articles": counts.get(pk, 0),
                "first": siblings[0].pk == pk,
                "last": siblings[-1].pk == pk,
            }
        )
    return rows


def _list_page(request: HttpRequest, desk: Desk, form: CategoryForm, status: int = 200) -> HttpResponse:
    context = {"section": "categories", "rows": _tree(desk), "form": form, "may_manage": manages(desk.agent)}
    return render(request, "web/knowledge/categories.html", context, status=status)


def _save(
    request: HttpRequest, desk: Desk, form: CategoryForm, category: KnowledgeCategory | None
) -> HttpResponse | None:
    """Save the form through the service; the page again with the refusal, or None when saved."""
    if not form.is_valid():
        return _refused(request, desk, form, category, 400)
    data = form.cleaned_data
    try:
        parent = get_category(desk, data["parent"]) if data["parent"] is not None else None
        position = category.position if category is not None else _next_position(desk, parent)
        services.category_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            parent=parent,
            position=position,
            category=category,
        )
    except DomainError as exc:
        service_errors(form, exc.details, exc.message)
        return _refused(request, desk, form, category, status_of(exc))
    return None


def _refused(
    request: HttpRequest, desk: Desk, form: CategoryForm, category: KnowledgeCategory | None, status: int
) -> HttpResponse:
    if category is None:
        return _list_page(request, desk, form, status=status)
    return _edit_page(request, desk, form, category, status=status)


def _next_position(desk: Desk, parent: KnowledgeCategory | None) -> int:
    last = KnowledgeCategory.objects.filter(workspace=desk.workspace, parent=parent).order_by("-position").first()
    return last.position + 1 if last is not None else 0


@agent_view
def category_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """GET: the categories and sections; POST: add one."""
    reads(desk)
    if request.method != "POST":
        return _list_page(request, desk, CategoryForm(workspace=desk.workspace))
    must_manage(desk)
    form = CategoryForm(request.POST, workspace=desk.workspace)
    refused = _save(request, desk, form, None)
    return refused or saved(request, reverse("web:knowledge_categories"), _("The category is added."))


def _edit_page(
    request: HttpRequest, desk: Desk, form: CategoryForm, category: KnowledgeCategory, status: int = 200
) -> HttpResponse:
    context = {"section": "categories", "form": form, "category": category}
    return render(request, "web/knowledge/category_form.html", context, status=status)


@agent_view
def category_edit(request: HttpRequest, desk: Desk, category_id: int) -> HttpResponse:
    """Rename a category, or make it a section of another (or a category of its own again)."""
    must_manage(desk)
    category = get_category(desk, category_id)
    if request.method != "POST":
        initial = {"name_zh": category.name_zh, "name_en": category.name_en, "parent": category.parent_id}
        return _edit_page(request, desk, CategoryForm(initial=initial, workspace=desk.workspace), category)
    form = CategoryForm(request.POST, workspace=desk.workspace)
    refused = _save(request, desk, form, category)
    return refused or saved(request, reverse("web:knowledge_categories"))


@require_POST
@agent_view
def category_move(request: HttpRequest, desk: Desk, category_id: int) -> HttpResponse:
    """Move a category one place up or down among its siblings (`direction`); the siblings are numbered again."""
    must_manage(desk)
    category = get_category(desk, category_id)
    siblings = list(
        KnowledgeCategory.objects.filter(workspace=desk.workspace, parent_id=category.parent_id).order_by(
            "position", "pk"
        )
    )
    index = next(i for i, c in enumerate(siblings) if c.pk == category.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    with transaction.atomic():
        for position, sibling in enumerate(siblings):
            if sibling.position != position:
                services.category_save(
                    actor=desk.actor,
                    workspace=desk.workspace,
                    name_zh=sibling.name_zh,
                    name_en=sibling.name_en,
                    parent=sibling.parent,
                    position=position,
                    category=sibling,
                )
    return saved(request, reverse("web:knowledge_categories"), _("The order is saved."))
