"""Django admin for customers: organizations (tier, account data) and contacts with their channel identities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.admin import adopt, changed_values
from pivotdesk.customers import services
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _CustomerOrganizationAdminBase = admin.ModelAdmin[CustomerOrganization]
    _ChannelIdentityInlineBase = admin.TabularInline[ChannelIdentity, Contact]
    _ContactAdminBase = admin.ModelAdmin[Contact]
else:
    _CustomerOrganizationAdminBase = _ContactAdminBase = admin.ModelAdmin
    _ChannelIdentityInlineBase = admin.TabularInline


@admin.register(CustomerOrganization)
class CustomerOrganizationAdmin(_CustomerOrganizationAdminBase):
    list_display = ("name", "tier", "workspace", "external_id", "created_at")
    list_filter = ("workspace", "tier")
    search_fields = ("name", "external_id")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: CustomerOrganization, form: ModelForm[Any], change: bool) -> None:
        if change:
            allowed = {"name", "tier", "domains", "account", "external_id", "notes"}
            services.organization_update(
                actor=Actor.for_site_admin(request.user.get_username()),
                organization=obj,
                **changed_values(obj, form, allowed),
            )
            return
        adopt(
            obj,
            services.organization_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                name=obj.name,
                tier=obj.tier,
                domains=obj.domains,
                account=obj.account,
                external_id=obj.external_id,
                notes=obj.notes,
            ),
        )


class ChannelIdentityInline(_ChannelIdentityInlineBase):
    """Identities are attached by channels and merges (`identity_attach`, `contact_merge`); shown read-only."""

    model = ChannelIdentity
    extra = 0
    can_delete = False
    fields = ("kind", "value", "verified", "last_seen_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(_ContactAdminBase):
    list_display = ("display_name", "email", "phone", "organization", "tier", "language", "workspace")
    list_filter = ("workspace", "tier", "language")
    list_select_related = ("organization", "workspace")
    search_fields = ("name", "email", "phone")
    autocomplete_fields = ("organization",)
    readonly_fields = ("merged_into", "merged_at", "created_at", "updated_at")
    inlines = (ChannelIdentityInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Contact | None = None) -> Any:
        # email and phone are identities: changed through identity_attach / merge, not by editing the contact
        base = tuple(super().get_readonly_fields(request, obj))
        return (*base, "email", "phone") if obj is not None else base

    def save_model(self, request: HttpRequest, obj: Contact, form: ModelForm[Any], change: bool) -> None:
        if change:
            allowed = {"name", "organization", "tier", "language", "time_zone", "notes"}
            services.contact_update(
                actor=Actor.for_site_admin(request.user.get_username()),
                contact=obj,
                **changed_values(obj, form, allowed),
            )
            return
        adopt(
            obj,
            services.contact_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                name=obj.name,
                email=obj.email,
                phone=obj.phone,
                organization=obj.organization,
                language=obj.language,
                tier=obj.tier,
                notes=obj.notes,
            ),
        )
