"""Ticket configuration: the category tree, status labels, custom fields (typed, with a rows editor for the options
of select fields: no JSON), and tags (usage, rename, merge, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.models import Category, CustomField, FieldType, Status
from pivotdesk.tickets.selectors import access_custom_field
from pivotdesk.tickets.services import configuration as config_services
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.settings_admin import forms
from pivotdesk.web.settings_admin import selectors as settings_selectors
from pivotdesk.web.settings_admin.views.common import page

SELECT_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)

# ---- categories ---------------------------------------------------------------------------------------------------


def _parent(desk: Desk, raw: str | None) -> Category | None:
    number = int_or_none(raw or "")
    if number is None:
        return None
    return settings_selectors.access_ticket_category(workspace=desk.workspace, category_id=number)


@agent_view
def category_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The category tree (archived ones greyed) with ticket counts; a POST adds a category."""
    require(desk.agent, Perm.CATEGORY_MANAGE)
    if request.method == "POST":
        name = forms.text(request.POST, "name", limit=120, required=True, label=_("Name"))
        name_zh = forms.text(request.POST, "name_zh", limit=120)
        category = config_services.category_create(
            workspace=desk.workspace,
            actor=desk.actor,
            name=name,
            name_zh=name_zh,
            parent=_parent(desk, request.POST.get("parent")),
        )
        messages.success(request, _("Category %(name)s added.") % {"name": category.name})
        return redirect("web:settings_categories")
    nodes = settings_selectors.category_tree(workspace=desk.workspace)
    return page(request, desk, "categories.html", "categories", {"nodes": nodes})


@require_POST
@agent_view
def category_edit(request: HttpRequest, desk: Desk, ticket_category_id: int) -> HttpResponse:
    """Rename a category (both languages), move it under another one or to the top, archive or restore it."""
    require(desk.agent, Perm.CATEGORY_MANAGE)
    category = settings_selectors.access_ticket_category(workspace=desk.workspace, category_id=ticket_category_id)
    action = request.POST.get("action", "save")
    if action in ("archive", "restore"):
        config_services.category_update(category=category, actor=desk.actor, active=action == "restore")
        if action == "archive":
            messages.success(request, _("%(name)s archived: its tickets keep it.") % {"name": category.name})
        else:
            messages.success(request, _("%(name)s restored.") % {"name": category.name})
        return redirect("web:settings_categories")
    parent_raw = request.POST.get("parent", "")
    config_services.category_update(
        category=category,
        actor=desk.actor,
        name=forms.text(request.POST, "name", limit=120, required=True, label=_("Name")),
        name_zh=forms.text(request.POST, "name_zh", limit=120),
        parent=_parent(desk, parent_raw),
        to_top=not parent_raw,
    )
    messages.success(request, _("Category %(name)s saved.") % {"name": category.name})
    return redirect("web:settings_categories")


# ---- statuses -----------------------------------------------------------------------------------------------------


@agent_view
def status_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The six status categories with the workspace's own labels for each; a POST adds a label."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    if request.method == "POST":
        label = forms.text(request.POST, "label", limit=80, required=True, label=_("Label"))
        definition = config_services.status_definition_create(
            workspace=desk.workspace,
            actor=desk.actor,
            category=request.POST.get("category", ""),
            label=label,
            label_zh=forms.text(request.POST, "label_zh", limit=80),
            is_default=forms.flag(request.POST, "is_default"),
            position=_next_status_position(desk),
        )
        messages.success(request, _("Status %(label)s added.") % {"label": definition.label})
        return redirect("web:settings_statuses")
    rows = settings_selectors.status_rows(workspace=desk.workspace)
    return page(request, desk, "statuses.html", "statuses", {"rows": rows, "categories": Status.choices})


def _next_status_position(desk: Desk) -> int:
    rows = [d for _v, _l, defs in settings_selectors.status_rows(workspace=desk.workspace) for d in defs]
    return max((d.position for d in rows), default=-1) + 1


@require_POST
@agent_view
def status_edit(request: HttpRequest, desk: Desk, status_id: int) -> HttpResponse:
    """Rename a status label, make it its category's default, deactivate or activate it."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    definition = settings_selectors.access_status_definition(workspace=desk.workspace, status_id=status_id)
    action = request.POST.get("action", "save")
    if action == "default":
        changes: dict[str, object] = {"is_default": True, "active": True}
    elif action in ("deactivate", "activate"):
        changes = {"active": action == "activate"}
        if action == "deactivate":
            changes["is_default"] = False
    else:
        changes = {
            "label": forms.text(request.POST, "label", limit=80, required=True, label=_("Label")),
            "label_zh": forms.text(request.POST, "label_zh", limit=80),
        }
    config_services.status_definition_update(definition=definition, actor=desk.actor, **changes)
    messages.success(request, _("Status %(label)s saved.") % {"label": definition.label})
    return redirect("web:settings_statuses")


@require_POST
@agent_view
def status_move(request: HttpRequest, desk: Desk, status_id: int) -> HttpResponse:
    """Move a status label up or down within its category (the order of the status menus)."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    definition = settings_selectors.access_status_definition(workspace=desk.workspace, status_id=status_id)
    ordered = [d.pk for _v, _l, defs in settings_selectors.status_rows(workspace=desk.workspace) for d in defs]
    config_services.status_definitions_reorder(
        workspace=desk.workspace, actor=desk.actor, ids=_moved(ordered, definition.pk, request.POST.get("direction"))
    )
    return redirect("web:settings_statuses")


def _moved(ordered: list[int], pk: int, direction: str | None) -> list[int]:
    """The ids with `pk` swapped with its neighbour (up or down); unchanged at an end or for another word."""
    i = ordered.index(pk)
    j = i - 1 if direction == "up" else i + 1 if direction == "down" else i
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    return ordered


# ---- custom fields ------------------------------------------------------------------------------------------------


@require_GET
@agent_view
def field_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's custom fields in their order."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    fields = list(settings_selectors.custom_fields(workspace=desk.workspace))
    return page(request, desk, "fields.html", "fields", {"fields": fields})


def _field_page(
    request: HttpRequest, desk: Desk, field: CustomField | None, *, error: str = "", status: int = 200
) -> HttpResponse:
    posted = request.method == "POST"
    option_rows = forms_rows(request) if posted else (list(field.options or []) if field is not None else [])
    return page(
        request,
        desk,
        "field.html",
        "fields",
        {
            "field": field,
            "types": FieldType.choices,
            "select_types": [t.value for t in SELECT_TYPES],
            "option_rows": option_rows,
            "error": error,
            "posted": request.POST if posted else {},
        },
        status=status,
    )


def forms_rows(request: HttpRequest) -> list[str]:
    """What the admin typed in the option rows, kept as typed when the form comes back with an error."""
    return [str(v).replace("\x00", "")[:200] for v in request.POST.getlist("option")[:200]]


@agent_view
def field_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """A new custom field: key, labels, type; options (rows) for select types; required flag."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    if request.method != "POST":
        return _field_page(request, desk, None)
    field_type = request.POST.get("field_type", "")
    field = config_services.custom_field_create(
        workspace=desk.workspace,
        actor=desk.actor,
        key=forms.text(request.POST, "key", limit=64, required=True, label=_("Key")).lower(),
        label=forms.text(request.POST, "label", limit=120, required=True, label=_("Label")),
        label_zh=forms.text(request.POST, "label_zh", limit=120),
        field_type=field_type,
        options=forms.options(request.POST) if field_type in SELECT_TYPES else [],
        required=forms.flag(request.POST, "required"),
        position=len(settings_selectors.custom_fields(workspace=desk.workspace)),
    )
    messages.success(request, _("Field %(label)s added.") % {"label": field.label})
    return redirect("web:settings_field", field.pk)


@agent_view
def field_edit(request: HttpRequest, desk: Desk, field_id: int) -> HttpResponse:
    """Edit a custom field's labels, options (rows: add, remove, reorder), required and active flags. Its key and
    type stay (tickets hold values under that key, of that type)."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    field = access_custom_field(workspace=desk.workspace, field_id=field_id)
    if request.method != "POST":
        return _field_page(request, desk, field)
    changes: dict[str, object] = {
        "label": forms.text(request.POST, "label", limit=120, required=True, label=_("Label")),
        "label_zh": forms.text(request.POST, "label_zh", limit=120),
        "required": forms.flag(request.POST, "required"),
        "active": forms.flag(request.POST, "active"),
    }
    if field.field_type in SELECT_TYPES:
        changes["options"] = forms.options(request.POST)
    config_services.custom_field_update(field=field, actor=desk.actor, **changes)
    messages.success(request, _("Field %(label)s saved.") % {"label": field.label})
    return redirect("web:settings_field", field.pk)


@require_POST
@agent_view
def field_move(request: HttpRequest, desk: Desk, field_id: int) -> HttpResponse:
    """Move a custom field up or down (the order on the ticket page and the forms)."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    ordered = list(settings_selectors.custom_fields(workspace=desk.workspace).values_list("pk", flat=True))
    access_custom_field(workspace=desk.workspace, field_id=field_id)
    config_services.custom_fields_reorder(
        workspace=desk.workspace, actor=desk.actor, ids=_moved(ordered, field_id, request.POST.get("direction"))
    )
    return redirect("web:settings_fields")


# ---- tags ---------------------------------------------------------------------------------------------------------

TAG_PAGE = 300


@require_GET
@agent_view
def tag_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's tags, most used first, with a search; rename, merge and delete on each row."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    q = forms.text(request.GET, "q", limit=64)
    tags = settings_selectors.tags_with_counts(workspace=desk.workspace, q=q)
    total = tags.count()
    return page(
        request, desk, "tags.html", "tags", {"tags": list(tags[:TAG_PAGE]), "total": total, "q": q, "cap": TAG_PAGE}
    )


@require_POST
@agent_view
def tag_edit(request: HttpRequest, desk: Desk, tag_id: int) -> HttpResponse:
    """`action` rename (to `name`), merge (into the tag named `into`) or delete."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    tag = settings_selectors.access_tag(workspace=desk.workspace, tag_id=tag_id)
    action = request.POST.get("action", "")
    old = tag.name
    if action == "rename":
        config_services.tag_rename(tag=tag, actor=desk.actor, name=forms.text(request.POST, "name", limit=64))
        messages.success(request, _("Tag %(old)s renamed to %(new)s.") % {"old": old, "new": tag.name})
    elif action == "merge":
        name = forms.text(request.POST, "into", limit=64, required=True, label=_("Merge into"))
        target = settings_selectors.tags_with_counts(workspace=desk.workspace).filter(name=name.lower()).first()
        if target is None:
            raise ValidationFailed(_("There is no tag named “%(name)s”.") % {"name": name})
        moved = config_services.tag_merge(source=tag, target=target, actor=desk.actor)
        messages.success(
            request,
            _("Tag %(old)s merged into %(new)s (%(count)d tickets gained it).")
            % {"old": old, "new": target.name, "count": moved},
        )
    elif action == "delete":
        count = config_services.tag_delete(tag=tag, actor=desk.actor)
        messages.success(request, _("Tag %(old)s deleted from %(count)d tickets.") % {"old": old, "count": count})
    else:
        raise ValidationFailed(_("Choose rename, merge or delete."))
    return redirect("web:settings_tags")
