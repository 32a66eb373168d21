"""Reads of the settings screens, always scoped to the workspace; objects by id go through access helpers that
answer NotFound for another workspace's (or no) row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.tickets.models import Category, CustomField, Status, StatusDefinition, Tag, Ticket


@dataclass(frozen=True)
class CategoryNode:
    category: Category
    depth: int
    tickets: int


def category_tree(*, workspace: Workspace) -> list[CategoryNode]:
    """The workspace's categories as a tree, depth-first (archived ones included), with their ticket counts."""
    rows = list(Category.objects.filter(workspace=workspace).order_by("name", "pk"))
    counts = dict(
        Ticket.objects.filter(workspace=workspace, category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    children: dict[int | None, list[Category]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[CategoryNode] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            if row.pk in seen:
                continue
            seen.add(row.pk)
            out.append(CategoryNode(row, depth, counts.get(row.pk, 0)))
            walk(row.pk, depth + 1)

    walk(None, 0)
    out += [CategoryNode(r, 0, counts.get(r.pk, 0)) for r in rows if r.pk not in seen]  # a broken parent chain
    return out


def access_ticket_category(*, workspace: Workspace, category_id: int) -> Category:
    category = Category.objects.filter(workspace=workspace, pk=category_id).first()
    if category is None:
        raise NotFound(_("Category not found."))
    return category


def status_rows(*, workspace: Workspace) -> list[tuple[str, str, list[StatusDefinition]]]:
    """The six categories, each with the workspace's labels for it (in order) and their ticket counts."""
    definitions = list(
        StatusDefinition.objects.filter(workspace=workspace)
        .annotate(tickets=Count("ticket"))
        .order_by("position", "pk")
    )
    return [(value, str(label), [d for d in definitions if d.category == value]) for value, label in Status.choices]


def access_status_definition(*, workspace: Workspace, status_id: int) -> StatusDefinition:
    definition = StatusDefinition.objects.filter(workspace=workspace, pk=status_id).first()
    if definition is None:
        raise NotFound(_("Status not found."))
    return definition


def custom_fields(*, workspace: Workspace) -> QuerySet[CustomField]:
    """Every custom field of the workspace (inactive ones too), in their order."""
    return CustomField.objects.filter(workspace=workspace).order_by("position", "pk")


def tags_with_counts(*, workspace: Workspace, q: str = "") -> QuerySet[Tag]:
    """The workspace's tags with how many tickets carry each, most used first."""
    qs = Tag.objects.filter(workspace=workspace)
    q = (q or "").replace("\x00", "").strip()[:64]
    if q:
        qs = qs.filter(name__icontains=q.lower())
    return qs.annotate(usage=Count("tickets")).order_by("-usage", "name")


def access_tag(*, workspace: Workspace, tag_id: int) -> Tag:
    tag = Tag.objects.filter(workspace=workspace, pk=tag_id).first()
    if tag is None:
        raise NotFound(_("Tag not found."))
    return tag


def open_assigned_counts(*, workspace: Workspace) -> dict[int, int]:
    """Open (not solved or closed) tickets per assignee: what a deactivation leaves behind."""
    rows = (
        Ticket.objects.filter(workspace=workspace, assignee__isnull=False, merged_into__isnull=True)
        .filter(~Q(status__in=[Status.SOLVED, Status.CLOSED]))
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    return dict(rows)
