"""Workspace configuration of tickets: custom fields, status labels, categories, tags, saved views."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common import config_cache
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.tickets.domain.text import normalize_tag
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import Category, CustomField, FieldType, SavedView, Status, StatusDefinition, Tag

_SELECT_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)


def _config_changed(workspace_id: int) -> None:
    """Custom fields or status labels changed: every process reloads them (after this transaction commits)."""
    transaction.on_commit(lambda: config_cache.invalidate(workspace_id))


def custom_field_create(
    *,
    workspace: Workspace,
    actor: Actor,
    key: str,
    label: str,
    field_type: str,
    options: list[str] | None = None,
    required: bool = False,
    label_zh: str = "",
    position: int = 0,
) -> CustomField:
    """Define a typed custom field; select types need options."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=workspace.pk)
    if field_type not in FieldType.values:
        raise ValidationFailed(
            gettext("Unknown field type '%(field_type)s'.") % {"field_type": field_type},
            details={"field_type": FieldType.values},
        )
    options = [str(o) for o in options or []]
    if field_type in _SELECT_TYPES and not options:
        raise ValidationFailed(gettext("Select fields need at least one option."))
    if len(set(options)) != len(options):
        raise ValidationFailed(gettext("Options must be unique."))
    if CustomField.objects.filter(workspace=workspace, key=key).exists():
        raise Conflict(
            gettext("A custom field with key '%(key)s' already exists.") % {"key": key},
            code=TicketErrorCode.FIELD_EXISTS,
        )
    field = CustomField.objects.create(
        workspace=workspace,
        key=key,
        label=label,
        label_zh=label_zh,
        field_type=field_type,
        options=options,
        required=required,
        position=position,
    )
    _config_changed(field.workspace_id)
    return field


def custom_field_update(*, field: CustomField, actor: Actor, **changes: Any) -> CustomField:
    """Change a field's label, options, required flag, position or active flag (its key and type stay)."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=field.workspace_id)
    allowed = {"label", "label_zh", "options", "required", "active", "position"}
    if set(changes) - allowed:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(changes) - allowed))}
        )
    if "options" in changes and field.field_type in _SELECT_TYPES and not changes["options"]:
        raise ValidationFailed(gettext("Select fields need at least one option."))
    for key, value in changes.items():
        setattr(field, key, value)
    field.save()
    _config_changed(field.workspace_id)
    return field


def status_definition_create(
    *,
    workspace: Workspace,
    actor: Actor,
    category: str,
    label: str,
    label_zh: str = "",
    is_default: bool = False,
    position: int = 0,
) -> StatusDefinition:
    """Add a custom status label mapped onto one of the six categories."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=workspace.pk)
    if category not in Status.values:
        raise ValidationFailed(
            gettext("Unknown status category '%(category)s'.") % {"category": category},
            details={"category": Status.values},
        )
    if StatusDefinition.objects.filter(workspace=workspace, label=label).exists():
        raise Conflict(
            gettext("A status labelled '%(label)s' already exists.") % {"label": label},
            code=TicketErrorCode.STATUS_EXISTS,
        )
    if is_default:
        StatusDefinition.objects.filter(workspace=workspace, category=category).update(is_default=False)
    definition = StatusDefinition.objects.create(
        workspace=workspace,
        category=category,
        label=label,
        label_zh=label_zh,
        is_default=is_default,
        position=position,
    )
    _config_changed(definition.workspace_id)
    return definition


def category_create(
    *, workspace: Workspace, actor: Actor, name: str, parent: Category | None = None, name_zh: str = ""
) -> Category:
    """Add a node to the category taxonomy (get if it exists). Supervisors may (a new kind of problem is theirs to
    name); renaming statuses and fields stays with admins."""
    authorize(actor, Perm.CATEGORY_MANAGE, workspace_id=workspace.pk)
    if parent is not None and parent.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("The parent category belongs to another workspace."))
    category, _ = Category.objects.get_or_create(
        workspace=workspace, parent=parent, name=name.strip(), defaults={"name_zh": name_zh}
    )
    return category


def tag_get_or_create(*, workspace: Workspace, actor: Actor, name: str) -> Tag:
    """A tag by (normalised) name, created if new (as tagging a ticket would)."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=workspace.pk)
    cleaned = normalize_tag(name)
    if not cleaned:
        raise ValidationFailed(gettext("A tag needs at least one letter or digit."))
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
    actor: Actor,
    name: str,
    filters: dict[str, Any],
    sort: str = "-updated_at",
    owner: AgentProfile | None = None,
) -> SavedView:
    """Save a queue filter, personal (owner: one's own) or shared with the workspace (no owner: SAVED_VIEW_SHARE)."""
    _authorize_view(actor, workspace.pk, owner.pk if owner is not None else None)
    unknown = set(filters) - SAVED_VIEW_FILTERS
    if unknown:
        raise ValidationFailed(gettext("Unknown filters: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    if not name.strip():
        raise ValidationFailed(gettext("A saved view needs a name."))
    return SavedView.objects.create(workspace=workspace, name=name.strip(), filters=filters, sort=sort, owner=owner)


def saved_view_delete(*, view: SavedView, actor: Actor) -> None:
    """Delete a saved view: one's own, or a shared one with SAVED_VIEW_SHARE."""
    _authorize_view(actor, view.workspace_id, view.owner_id)
    view.delete()


def _authorize_view(actor: Actor, workspace_id: int, owner_id: int | None) -> None:
    if owner_id is None:
        authorize(actor, Perm.SAVED_VIEW_SHARE, workspace_id=workspace_id)
        return
    authorize(actor, Perm.SELF_MANAGE, workspace_id=workspace_id)
    if actor.kind != "system" and not actor.is_agent(owner_id):
        raise PermissionDenied(gettext("A personal view belongs to its owner."), code=TicketErrorCode.PERMISSION_DENIED)


# ---- the in-app admin's edits (issue 18): statuses, categories, tags, field order -----------------------------------

MAX_LABEL = 80
MAX_CATEGORY_NAME = 120


def _label(value: Any, *, limit: int, required: bool, what: str) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(gettext("%(what)s cannot be empty.") % {"what": what})
    if len(text) > limit:
        raise ValidationFailed(gettext("%(what)s is at most %(limit)d characters.") % {"what": what, "limit": limit})
    return text


def status_definition_update(*, definition: StatusDefinition, actor: Actor, **changes: Any) -> StatusDefinition:
    """Change a status label: its names, description, position, active flag, or make it its category's default (the
    other labels of the category stop being the default). Its category stays (tickets already carry it)."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=definition.workspace_id)
    allowed = {"label", "label_zh", "description", "position", "is_default", "active"}
    if set(changes) - allowed:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(set(changes) - allowed))}
        )
    if "label" in changes:
        changes["label"] = _label(changes["label"], limit=MAX_LABEL, required=True, what=gettext("A label"))
        clash = StatusDefinition.objects.filter(workspace_id=definition.workspace_id, label=changes["label"])
        if clash.exclude(pk=definition.pk).exists():
            raise Conflict(
                gettext("A status labelled '%(label)s' already exists.") % {"label": changes["label"]},
                code=TicketErrorCode.STATUS_EXISTS,
            )
    if "label_zh" in changes:
        changes["label_zh"] = _label(changes["label_zh"], limit=MAX_LABEL, required=False, what=gettext("A label"))
    if "description" in changes:
        changes["description"] = _label(
            changes["description"], limit=255, required=False, what=gettext("A description")
        )
    with transaction.atomic():
        if changes.get("is_default"):
            StatusDefinition.objects.filter(
                workspace_id=definition.workspace_id, category=definition.category, is_default=True
            ).exclude(pk=definition.pk).update(is_default=False)
        for key, value in changes.items():
            setattr(definition, key, value)
        definition.save()
    _config_changed(definition.workspace_id)
    return definition


def status_definitions_reorder(*, workspace: Workspace, actor: Actor, ids: list[int]) -> int:
    """Put the workspace's status labels in this order (positions 0, 1, …); labels not named keep theirs after."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=workspace.pk)
    known = dict(StatusDefinition.objects.filter(workspace=workspace, pk__in=ids).values_list("pk", "position"))
    if len(known) != len(set(ids)):
        raise ValidationFailed(gettext("Unknown status labels in the new order."))
    with transaction.atomic():
        for position, pk in enumerate(dict.fromkeys(ids)):
            if known[pk] != position:
                StatusDefinition.objects.filter(pk=pk).update(position=position)
    _config_changed(workspace.pk)
    return len(known)


def custom_fields_reorder(*, workspace: Workspace, actor: Actor, ids: list[int]) -> int:
    """Put the workspace's custom fields in this order (positions 0, 1, …) on forms and the ticket page."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=workspace.pk)
    known = dict(CustomField.objects.filter(workspace=workspace, pk__in=ids).values_list("pk", "position"))
    if len(known) != len(set(ids)):
        raise ValidationFailed(gettext("Unknown custom fields in the new order."))
    with transaction.atomic():
        for position, pk in enumerate(dict.fromkeys(ids)):
            if known[pk] != position:
                CustomField.objects.filter(pk=pk).update(position=position)
    _config_changed(workspace.pk)
    return len(known)


def category_update(
    *,
    category: Category,
    actor: Actor,
    name: str | None = None,
    name_zh: str | None = None,
    parent: Category | None = None,
    to_top: bool = False,
    active: bool | None = None,
) -> Category:
    """Rename a category (both languages), move it under another parent (or to the top level with `to_top`), or
    archive / restore it (an archived category is kept on its tickets but offered no more). None leaves a field."""
    authorize(actor, Perm.CATEGORY_MANAGE, workspace_id=category.workspace_id)
    if name is not None:
        category.name = _label(name, limit=MAX_CATEGORY_NAME, required=True, what=gettext("A name"))
    if name_zh is not None:
        category.name_zh = _label(name_zh, limit=MAX_CATEGORY_NAME, required=False, what=gettext("A name"))
    if parent is not None:
        if parent.workspace_id != category.workspace_id:
            raise ValidationFailed(gettext("The parent category belongs to another workspace."))
        ancestor: Category | None = parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise ValidationFailed(gettext("A category cannot be moved under itself or one of its subcategories."))
            ancestor = ancestor.parent
        category.parent = parent
    elif to_top:
        category.parent = None
    if active is not None:
        category.active = active
    clash = Category.objects.filter(
        workspace_id=category.workspace_id, parent_id=category.parent_id, name=category.name
    ).exclude(pk=category.pk)
    if clash.exists():
        raise Conflict(
            gettext("A category named '%(name)s' already exists there.") % {"name": category.name},
            code="category_exists",
        )
    category.save()
    return category


def tag_rename(*, tag: Tag, actor: Actor, name: str) -> Tag:
    """Rename a tag on every ticket that carries it (to a name no other tag has: merge into that one instead)."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=tag.workspace_id)
    cleaned = normalize_tag(name or "")
    if not cleaned:
        raise ValidationFailed(gettext("A tag needs at least one letter or digit."))
    if Tag.objects.filter(workspace_id=tag.workspace_id, name=cleaned).exclude(pk=tag.pk).exists():
        raise Conflict(
            gettext("A tag named “%(name)s” exists already: merge into it instead.") % {"name": cleaned},
            code="tag_exists",
        )
    tag.name = cleaned
    tag.save()
    return tag


def tag_merge(*, source: Tag, target: Tag, actor: Actor) -> int:
    """Move every ticket of `source` to `target` and delete `source`; returns how many tickets gained `target`."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=source.workspace_id)
    if target.workspace_id != source.workspace_id:
        raise ValidationFailed(gettext("Both tags must belong to the same workspace."))
    if target.pk == source.pk:
        raise ValidationFailed(gettext("A tag cannot be merged into itself."))
    through = Tag.tickets.through
    with transaction.atomic():
        tickets = set(through.objects.filter(tag_id=source.pk).values_list("ticket_id", flat=True))
        have = set(through.objects.filter(tag_id=target.pk, ticket_id__in=tickets).values_list("ticket_id", flat=True))
        through.objects.bulk_create([through(tag_id=target.pk, ticket_id=t) for t in sorted(tickets - have)])
        source.delete()
    return len(tickets - have)


def tag_delete(*, tag: Tag, actor: Actor) -> int:
    """Delete a tag and take it off every ticket; returns how many tickets carried it."""
    authorize(actor, Perm.WORKSPACE_CONFIGURE, workspace_id=tag.workspace_id)
    count = Tag.tickets.through.objects.filter(tag_id=tag.pk).count()
    tag.delete()
    return count
