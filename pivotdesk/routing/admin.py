"""Django admin for routing: policies, category skills, decisions (read-only), the queue, field service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from pivotdesk.routing.models import (
    CategorySkill,
    Device,
    DevicePartUsage,
    Part,
    QueuedTicket,
    RoutingDecision,
    RoutingPolicy,
    TicketDevice,
)
from pivotdesk.routing.services.pool import bump_pool_version

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _PolicyAdmin = admin.ModelAdmin[RoutingPolicy]
    _CategorySkillAdmin = admin.ModelAdmin[CategorySkill]
    _DecisionAdmin = admin.ModelAdmin[RoutingDecision]
    _QueueAdmin = admin.ModelAdmin[QueuedTicket]
    _DeviceAdmin = admin.ModelAdmin[Device]
    _PartAdmin = admin.ModelAdmin[Part]
    _UsageAdmin = admin.ModelAdmin[DevicePartUsage]
    _TicketDeviceAdmin = admin.ModelAdmin[TicketDevice]
else:
    _PolicyAdmin = _CategorySkillAdmin = _DecisionAdmin = _QueueAdmin = admin.ModelAdmin
    _DeviceAdmin = _PartAdmin = _UsageAdmin = _TicketDeviceAdmin = admin.ModelAdmin


class _BumpsPool:
    """Edits here change who may be routed to: forget the cached pool of the workspace."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        bump_pool_version(obj.workspace_id)


@admin.register(RoutingPolicy)
class RoutingPolicyAdmin(_BumpsPool, _PolicyAdmin):
    list_display = ("name", "workspace", "position", "active", "strategy", "team", "overflow_team")
    list_filter = ("active", "strategy")
    search_fields = ("name",)


@admin.register(CategorySkill)
class CategorySkillAdmin(_BumpsPool, _CategorySkillAdmin):
    list_display = ("category", "skill", "min_level", "workspace")
    raw_id_fields = ("category", "skill")


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(_DecisionAdmin):
    list_display = ("created_at", "ticket", "trigger", "agent", "strategy", "relax_level")
    list_filter = ("trigger", "strategy")
    raw_id_fields = ("ticket", "agent", "by", "policy")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are a record


@admin.register(QueuedTicket)
class QueuedTicketAdmin(_QueueAdmin):
    list_display = ("ticket", "priority_rank", "sla_due_at", "since", "relax_level", "attempts", "last_reason")
    raw_id_fields = ("ticket", "policy")


@admin.register(Device)
class DeviceAdmin(_DeviceAdmin):
    list_display = ("name", "model", "serial", "site_name", "organization", "workspace")
    search_fields = ("name", "serial", "site_name")


@admin.register(Part)
class PartAdmin(_PartAdmin):
    list_display = ("sku", "name", "stock", "workspace")
    search_fields = ("sku", "name")


@admin.register(DevicePartUsage)
class DevicePartUsageAdmin(_UsageAdmin):
    list_display = ("device", "part", "ticket", "quantity", "created_at")
    raw_id_fields = ("device", "part", "ticket")


@admin.register(TicketDevice)
class TicketDeviceAdmin(_TicketDeviceAdmin):
    list_display = ("ticket", "device", "onsite")
    raw_id_fields = ("ticket", "device")
