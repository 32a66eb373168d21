"""Django admin for workspace configuration: workspaces, users, agents with skills, teams, skills, API tokens.

Writes go through `accounts.services`: a new row is created by the service and the admin adopts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from pivotdesk.accounts import services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.login_throttle import ThrottledAdminAuthenticationForm
from pivotdesk.accounts.models import (
    AgentProfile,
    AgentSkill,
    ApiToken,
    LoginAudit,
    Skill,
    Team,
    User,
    Workspace,
)

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _UserAdminBase = DjangoUserAdmin[User]
    _WorkspaceAdminBase = admin.ModelAdmin[Workspace]
    _AgentSkillInlineBase = admin.TabularInline[AgentSkill, AgentProfile]
    _AgentProfileAdminBase = admin.ModelAdmin[AgentProfile]
    _TeamAdminBase = admin.ModelAdmin[Team]
    _SkillAdminBase = admin.ModelAdmin[Skill]
    _ApiTokenAdminBase = admin.ModelAdmin[ApiToken]
    _LoginAuditAdminBase = admin.ModelAdmin[LoginAudit]
else:
    _LoginAuditAdminBase = admin.ModelAdmin
    _UserAdminBase = DjangoUserAdmin
    _WorkspaceAdminBase = _AgentProfileAdminBase = _TeamAdminBase = _SkillAdminBase = _ApiTokenAdminBase = (
        admin.ModelAdmin
    )
    _AgentSkillInlineBase = admin.TabularInline


def adopt(obj: Model, created: Model) -> None:
    """Make the admin's unsaved `obj` the row a service just created (so the admin redirects to it)."""
    obj.__dict__.update(created.__dict__)


def changed_values(obj: Model, form: ModelForm[Any], allowed: set[str]) -> dict[str, Any]:
    """The form's changed fields that an update service accepts, with their new values."""
    return {name: getattr(obj, name) for name in form.changed_data if name in allowed}


@admin.register(Workspace)
class WorkspaceAdmin(_WorkspaceAdminBase):
    list_display = ("name", "slug", "time_zone", "default_language", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Workspace, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # no update service yet: name, time zone, settings
            return
        adopt(
            obj,
            services.workspace_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                name=obj.name,
                slug=obj.slug or None,
                time_zone=obj.time_zone,
                languages=obj.languages or None,
            ),
        )


@admin.register(User)
class UserAdmin(_UserAdminBase):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("PivotDesk", {"fields": ("display_name", "preferred_language")}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "last_login")


class AgentSkillInline(_AgentSkillInlineBase):
    model = AgentSkill
    extra = 1
    autocomplete_fields = ("skill",)


@admin.register(AgentProfile)
class AgentProfileAdmin(_AgentProfileAdminBase):
    list_display = ("__str__", "workspace", "role", "is_active", "status", "seniority", "languages")
    list_filter = ("workspace", "role", "status", "is_active")
    list_select_related = ("user", "workspace")
    search_fields = ("user__username", "user__display_name", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("status", "status_changed_at", "created_at", "updated_at")
    inlines = (AgentSkillInline,)
    UPDATABLE = {
        "role",
        "ticket_access",
        "is_active",
        "languages",
        "capacity",
        "latitude",
        "longitude",
        "time_zone",
        "seniority",
        "signature",
    }

    def save_model(self, request: HttpRequest, obj: AgentProfile, form: ModelForm[Any], change: bool) -> None:
        if change:
            services.agent_update(
                actor=Actor.for_site_admin(request.user.get_username()),
                agent=obj,
                **changed_values(obj, form, self.UPDATABLE),
            )
            return
        profile = {name: getattr(obj, name) for name in self.UPDATABLE - {"role", "languages"}}
        adopt(
            obj,
            services.agent_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                username=obj.user.username,
                role=obj.role,
                languages=obj.languages,
                **profile,
            ),
        )

    def save_formset(
        self, request: HttpRequest, form: ModelForm[Any], formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not AgentSkill:
            super().save_formset(request, form, formset, change)
            return
        for inline in formset.forms:
            data = inline.cleaned_data
            if not data or not data.get("skill"):
                continue
            if data.get("DELETE"):
                if inline.instance.pk:
                    inline.instance.delete()  # no "remove skill" service yet
                continue
            if inline.has_changed():
                services.agent_skill_set(
                    actor=Actor.for_site_admin(request.user.get_username()),
                    agent=form.instance,
                    skill=data["skill"],
                    level=data["level"],
                )


@admin.register(Team)
class TeamAdmin(_TeamAdminBase):
    list_display = ("name", "workspace", "lead", "created_at")
    list_filter = ("workspace",)
    search_fields = ("name",)
    filter_horizontal = ("members",)

    def save_model(self, request: HttpRequest, obj: Team, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # name, description, lead: no update service yet
            return
        adopt(
            obj,
            services.team_create(
                actor=Actor.for_site_admin(request.user.get_username()),
                workspace=obj.workspace,
                name=obj.name,
                description=obj.description,
                lead=obj.lead,
            ),
        )

    def save_related(self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool) -> None:
        services.team_set_members(
            actor=Actor.for_site_admin(request.user.get_username()),
            team=form.instance,
            members=list(form.cleaned_data.get("members") or []),
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Skill)
class SkillAdmin(_SkillAdminBase):
    list_display = ("name", "workspace", "created_at")
    list_filter = ("workspace",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: Skill, form: ModelForm[Any], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        adopt(
            obj,
            services.skill_get_or_create(
                actor=Actor.for_site_admin(request.user.get_username()), workspace=obj.workspace, name=obj.name
            ),
        )


@admin.register(ApiToken)
class ApiTokenAdmin(_ApiTokenAdminBase):
    """Tokens are created where the secret can be shown once (UI, `create_token`); here they are read and revoked."""

    list_display = ("name", "prefix", "agent", "workspace", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("workspace", "scope")
    list_select_related = ("agent__user", "workspace")
    search_fields = ("name", "prefix", "agent__user__username")
    readonly_fields = (
        "workspace",
        "agent",
        "name",
        "prefix",
        "secret_hash",
        "scope",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "rate_limit_per_minute",
        "created_at",
        "updated_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(actor=Actor.for_site_admin(request.user.get_username()), token=token)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


# The admin's login goes through the same throttled backend; this form shows its lock-out message.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(LoginAudit)
class LoginAuditAdmin(_LoginAuditAdminBase):
    """Failed sign-ins and lock-outs, read-only."""

    list_display = ("created_at", "event", "username", "address", "scope")
    list_filter = ("event", "scope")
    search_fields = ("username", "address")
    readonly_fields = ("created_at", "event", "username", "user", "address", "scope")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LoginAudit | None = None) -> bool:
        return False
