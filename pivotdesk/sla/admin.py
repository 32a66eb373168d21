"""Django admin for service levels: calendars, policies with their targets and escalation levels (validated by the
models' clean(); a save asks the scanner to recheck open tickets), and read-only clocks, outcomes and firings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from pivotdesk.accounts.actors import Actor
from pivotdesk.sla.models import (
    BusinessCalendar,
    EscalationLevel,
    SLACheckFailure,
    SLAFiring,
    SLAOutcome,
    SLAPolicy,
    SLATarget,
    TeamCalendar,
    TicketSLA,
)
from pivotdesk.sla.services.configuration import recheck_open_tickets

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _CalendarAdmin = admin.ModelAdmin[BusinessCalendar]
    _PolicyAdmin = admin.ModelAdmin[SLAPolicy]
    _TeamCalendarAdmin = admin.ModelAdmin[TeamCalendar]
    _ClockAdmin = admin.ModelAdmin[TicketSLA]
    _OutcomeAdmin = admin.ModelAdmin[SLAOutcome]
    _FiringAdmin = admin.ModelAdmin[SLAFiring]
    _FailureAdmin = admin.ModelAdmin[SLACheckFailure]
    _TargetInline = admin.TabularInline[SLATarget, SLAPolicy]
    _LevelInline = admin.TabularInline[EscalationLevel, SLAPolicy]
else:
    _CalendarAdmin = _PolicyAdmin = _TeamCalendarAdmin = _ClockAdmin = admin.ModelAdmin
    _OutcomeAdmin = _FiringAdmin = _FailureAdmin = admin.ModelAdmin
    _TargetInline = _LevelInline = admin.TabularInline


class _Rechecks:
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        actor = Actor.for_site_admin(request.user.get_username())
        recheck_open_tickets(actor=actor, workspace_id=obj.workspace_id)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(_Rechecks, _CalendarAdmin):
    list_display = ("name", "workspace", "time_zone", "country", "is_default")
    list_filter = ("country", "is_default")
    search_fields = ("name",)


@admin.register(TeamCalendar)
class TeamCalendarAdmin(_Rechecks, _TeamCalendarAdmin):
    list_display = ("team", "calendar", "workspace")


class TargetInline(_TargetInline):
    model = SLATarget
    extra = 0


class LevelInline(_LevelInline):
    model = EscalationLevel
    extra = 0


@admin.register(SLAPolicy)
class SLAPolicyAdmin(_Rechecks, _PolicyAdmin):
    list_display = ("name", "workspace", "position", "active", "calendar")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = (TargetInline, LevelInline)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TicketSLA)
class TicketSLAAdmin(_ReadOnly, _ClockAdmin):
    list_display = ("ticket", "metric", "cycle", "state", "due_at", "breached_at", "fulfilled_at", "policy")
    list_filter = ("metric", "state")
    raw_id_fields = ("ticket",)


@admin.register(SLAOutcome)
class SLAOutcomeAdmin(_ReadOnly, _OutcomeAdmin):
    list_display = ("ticket", "metric", "cycle", "achieved", "policy_name", "priority", "finished_at")
    list_filter = ("metric", "achieved", "priority")
    raw_id_fields = ("ticket",)


@admin.register(SLAFiring)
class SLAFiringAdmin(_ReadOnly, _FiringAdmin):
    list_display = ("ticket", "metric", "cycle", "kind", "label", "fired_at")
    list_filter = ("kind", "metric")
    raw_id_fields = ("ticket",)


@admin.register(SLACheckFailure)
class SLACheckFailureAdmin(_ReadOnly, _FailureAdmin):
    """Tickets whose SLA check crashed, with the reason; the scanner retries them with back-off."""

    list_display = ("ticket", "workspace", "attempts", "error", "last_failed_at", "retry_at", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    search_fields = ("error",)
    raw_id_fields = ("ticket",)
