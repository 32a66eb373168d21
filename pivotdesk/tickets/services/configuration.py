"""Workspace configuration of tickets: custom fields, status labels, categories, tags, saved views."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.tickets.domain.text import normalize_tag
from pivotdesk.tickets.models import Category, CustomField, FieldType, SavedView, Status, StatusDefinition, Tag

_SELECT_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)


def custom_field_create(
    *,
    workspace: Workspace,
    key: str,
    label: str,
    field_type: str,
    options: list[str] | None = None,
    required: bool = False,
    label_zh: str = "",
    position: int = 0,
) -> CustomField:
    """Define a typed custom field; select types need options."""
    if field_type not in FieldType.values:
        raise ValidationFailed(f"Unknown field type '{field_type}'.", details={"field_type": FieldType.values})
    options = [str(o) for o in options or []]
    if field_type in _SELECT_TYPES and not options:
        raise ValidationFailed("Select fields need at least one option.")
    if len(set(options)) != len(options):
        raise ValidationFailed("Options must be unique.")
    if CustomField.objects.filter(workspace=workspace, key=key).exists():
        raise Conflict(f"A custom field with key '{key}' already exists.", code="field_exists")
    return CustomField.objects.create(
        workspace=workspace,
        key=key,
        label=label,
        label_zh=label_zh,
        field_type=field_type,
        options=options,
        required=required,
        position=position,
    )


def custom_field_update(*, field: CustomField, **changes: Any) -> CustomField:
    """Change a field's label, options, required flag, position or active flag (its key and type stay)."""
    allowed = {"label", "label_zh", "options", "required", "active", "position"}
    if set(changes) - allowed:
        raise ValidationFailed(f"Cannot update: {', '.join(sorted(set(changes) - allowed))}.")
    if "options" in changes and field.field_type in _SELECT_TYPES and not changes["options"]:
        raise ValidationFailed("Select fields need at least one option.")
    for key, value in changes.items():
        setattr(field, key, value)
    field.save()
    return field


def status_definition_create(
    *, workspace: Workspace, category: str, label: str, label_zh: str = "", is_default: bool = False, position: int = 0
) -> StatusDefinition:
    """Add a custom status label mapped onto one of the six categories."""
    if category not in Status.values:
        raise ValidationFailed(f"Unknown status category '{category}'.", details={"category": Status.values})
    if StatusDefinition.objects.filter(workspace=workspace, label=label).exists():
        raise Conflict(f"A status labelled '{label}' already exists.", code="status_exists")
    if is_default:
        StatusDefinition.objects.filter(workspace=workspace, category=category).update(is_default=False)
    return StatusDefinition.objects.create(
        workspace=workspace,
        category=category,
        label=label,
        label_zh=label_zh,
        is_default=is_default,
        position=position,
    )


def category_create(*, workspace: Workspace, name: str, parent: Category | None = None, name_zh: str = "") -> Category:
    """Add a node to the category taxonomy (get if it exists)."""
    if parent is not None and parent.workspace_id != workspace.pk:
        raise ValidationFailed("The parent category belongs to another workspace.")
    category, _ = Category.objects.get_or_create(
        workspace=workspace, parent=parent, name=name.strip(), defaults={"name_zh": name_zh}
    )
    return category


def tag_get_or_create(*, workspace: Workspace, name: str) -> Tag:
    """A tag by (normalised) name."""
    cleaned = normalize_tag(name)
    if not cleaned:
        raise ValidationFailed("A tag needs at least one letter or digit.")
    tag, _ = Tag.objects.get_or_create(workspace=workspace, name=cleaned)
    return tag


SAVED_VIEW_FILTERS = frozenset(
    {
        "status",
        "priority",
        "assignee",
        "team",
        "tag",
        "channel",
        "requester",
        "organization",
        "q",
        "ticket_type",
        "category",
        "unassigned",
        "created_after",
        "created_before",
        "updated_after",
        "updated_before",
        "scope",
    }
)


def saved_view_create(
    *,
    workspace: Workspace,
    name: str,
    filters: dict[str, Any],
    sort: str = "-updated_at",
    owner: AgentProfile | None = None,
) -> SavedView:
    """Save a queue filter, personal (owner) or shared (no owner)."""
    unknown = set(filters) - SAVED_VIEW_FILTERS
    if unknown:
        raise ValidationFailed(f"Unknown filters: {', '.join(sorted(unknown))}.")
    if not name.strip():
        raise ValidationFailed("A saved view needs a name.")
    return SavedView.objects.create(workspace=workspace, name=name.strip(), filters=filters, sort=sort, owner=owner)


def saved_view_delete(*, view: SavedView) -> None:
    """Delete a saved view."""
    view.delete()
