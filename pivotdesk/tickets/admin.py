"""Django admin for ticket configuration (custom fields, status labels, categories, tags, saved views) and a
read-mostly view of tickets with their conversation and timeline. Writes go through `tickets.services`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.admin import adopt, changed_values
from pivotdesk.common.errors import DomainError
from pivotdesk.tickets import services
from pivotdesk.tickets.models import (
    Category,
    CustomField,
    Message,
    SavedView,
    StatusDefinition,
    Tag,
    Ticket,
    TicketEvent,
)

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _CustomFieldAdminBase = admin.ModelAdmin[CustomField]
    _StatusDefinitionAdminBase = admin.ModelAdmin[StatusDefinition]
    _CategoryAdminBase = admin.ModelAdmin[Category]
    _TagAdminBase = admin.ModelAdmin[Tag]
    _SavedViewAdminBase = admin.ModelAdmin[SavedView]
    _MessageInlineBase = admin.StackedInline[Message, Ticket]
    _TicketEventInlineBase = admin.TabularInline[TicketEvent, Ticket]
    _TicketAdminBase = admin.ModelAdmin[Ticket]
else:
    _CustomFieldAdminBase = _StatusDefinitionAdminBase = _CategoryAdminBase = _TagAdminBase = _SavedViewAdminBase = (
        _TicketAdminBase
    ) = admin.ModelAdmin
    _MessageInlineBase = admin.StackedInline
    _TicketEventInlineBase = admin.TabularInline


@admin.register(CustomField)
class CustomFieldAdmin(_CustomFieldAdminBase):
    list_display = ("key", "label", "label_zh", "field_type", "required", "active", "position", "workspace")
    list_filter = ("workspace", "field_type", "active")
    search_fields = ("key", "label", "label_zh")

    def get_readonly_fields(self, request: HttpRequest, obj: CustomField | None = None) -> Any:
        return ("key", "field_type", "workspace") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: CustomField, form: ModelForm[Any], change: bool) -> None:
        if change:
            allowed = {"label", "label_zh", "options", "required", "active", "position"}
            services.custom_field_update(
                actor=Actor.for_site_admin(request.user.get_username()), field=obj, **changed_values(obj, form, allowed)
            )
            return
        adopt(
            obj,
            services.custom_field_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                key=obj.key,
                label=obj.label,
                label_zh=obj.label_zh,
                field_type=obj.field_type,
                options=obj.options,
                required=obj.required,
                position=obj.position,
            ),
        )


@admin.register(StatusDefinition)
class StatusDefinitionAdmin(_StatusDefinitionAdminBase):
    list_display = ("label", "label_zh", "category", "is_default", "active", "position", "workspace")
    list_filter = ("workspace", "category", "active")

    def save_model(self, request: HttpRequest, obj: StatusDefinition, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # no update service yet
            return
        adopt(
            obj,
            services.status_definition_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                category=obj.category,
                label=obj.label,
                label_zh=obj.label_zh,
                is_default=obj.is_default,
                position=obj.position,
            ),
        )


@admin.register(Category)
class CategoryAdmin(_CategoryAdminBase):
    list_display = ("name", "name_zh", "parent", "active", "workspace")
    list_filter = ("workspace", "active")
    list_select_related = ("parent", "workspace")
    search_fields = ("name", "name_zh")

    def save_model(self, request: HttpRequest, obj: Category, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # no update service yet
            return
        adopt(
            obj,
            services.category_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                name=obj.name,
                parent=obj.parent,
                name_zh=obj.name_zh,
            ),
        )


@admin.register(Tag)
class TagAdmin(_TagAdminBase):
    list_display = ("name", "workspace", "created_at")
    list_filter = ("workspace",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: Tag, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        adopt(
            obj,
            services.tag_get_or_create(
                actor=Actor.for_site_admin(request.user.get_username()), workspace=obj.workspace, name=obj.name
            ),
        )


@admin.register(SavedView)
class SavedViewAdmin(_SavedViewAdminBase):
    list_display = ("name", "owner", "sort", "position", "workspace")
    list_filter = ("workspace",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: SavedView, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        adopt(
            obj,
            services.saved_view_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                name=obj.name,
                filters=obj.filters,
                sort=obj.sort,
                owner=obj.owner,
            ),
        )

    def delete_model(self, request: HttpRequest, obj: SavedView) -> None:
        services.saved_view_delete(actor=Actor.for_site_admin(request.user.get_username()), view=obj)


class _ReadOnlyInline:
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(_ReadOnlyInline, _MessageInlineBase):
    model = Message
    fields = ("created_at", "kind", "author_type", "author_agent", "author_contact", "channel", "body_text")
    readonly_fields = fields


class TicketEventInline(_ReadOnlyInline, _TicketEventInlineBase):
    model = TicketEvent
    fields = ("created_at", "actor_type", "actor_label", "verb", "field", "old_value", "new_value")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(_TicketAdminBase):
    """Read-mostly: tickets change in the agent UI or the API; here they can be inspected and bulk-solved."""

    list_display = ("number", "subject", "status", "priority", "channel", "requester", "assignee", "team", "created_at")
    list_filter = ("workspace", "status", "priority", "channel", "ticket_type")
    list_select_related = ("requester", "assignee__user", "team")
    search_fields = ("subject", "=number", "requester__email", "external_id")
    date_hierarchy = "created_at"
    inlines = (MessageInline, TicketEventInline)
    actions = ("mark_solved",)

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> Any:
        return [f.name for f in Ticket._meta.get_fields() if f.concrete and not f.many_to_many] + ["tags"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False

    @admin.action(description="Mark selected tickets as solved")
    def mark_solved(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        actor = Actor.system(f"admin {request.user.get_username()}")
        solved, failed = 0, []
        for ticket in queryset:
            try:
                services.ticket_set_status(ticket=ticket, status="solved", actor=actor)
                solved += 1
            except DomainError as exc:
                failed.append(f"#{ticket.number}: {exc.message}")
        self.message_user(request, f"{solved} ticket(s) solved.", messages.SUCCESS)
        if failed:
            self.message_user(request, "Not solved: " + "; ".join(failed[:10]), messages.WARNING)
