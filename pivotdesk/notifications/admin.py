"""Django admin for notifications: notifications, preferences, targets (URL write-only) and the delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.errors import DomainError
from pivotdesk.notifications import services
from pivotdesk.notifications.models import Delivery, Notification, NotificationPreference, NotificationTarget

if TYPE_CHECKING:
    _NotificationAdmin = admin.ModelAdmin[Notification]
    _PreferenceAdmin = admin.ModelAdmin[NotificationPreference]
    _TargetAdmin = admin.ModelAdmin[NotificationTarget]
    _DeliveryAdmin = admin.ModelAdmin[Delivery]
    _DeliveryInline = admin.TabularInline[Delivery, Notification]
    _TargetForm = forms.ModelForm[NotificationTarget]
else:
    _NotificationAdmin = _PreferenceAdmin = _TargetAdmin = _DeliveryAdmin = admin.ModelAdmin
    _DeliveryInline = admin.TabularInline
    _TargetForm = forms.ModelForm


class DeliveryInline(_DeliveryInline):
    model = Delivery
    fields = ("channel", "destination", "status", "attempts", "next_attempt_at", "last_error", "sent_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Notification)
class NotificationAdmin(_NotificationAdmin):
    list_display = ("title", "kind", "recipient", "urgent", "read_at", "created_at")
    list_filter = ("kind", "urgent", "workspace")
    search_fields = ("title", "dedupe_key", "recipient__user__username")
    raw_id_fields = ("recipient", "ticket")
    readonly_fields = ("created_at", "updated_at")
    inlines = (DeliveryInline,)


@admin.register(NotificationPreference)
class PreferenceAdmin(_PreferenceAdmin):
    list_display = ("agent", "quiet_hours_enabled", "quiet_start", "quiet_end", "urgent_overrides_quiet")
    raw_id_fields = ("agent",)


class TargetForm(_TargetForm):
    """The apprise URL is write-only: blank keeps the stored one; it is validated offline before saving."""

    new_url = forms.CharField(
        label=_("Apprise URL"), required=False, help_text=_("Leave blank to keep the current URL (never shown).")
    )

    class Meta:
        model = NotificationTarget
        fields = ("workspace", "agent", "label", "kinds", "active")

    def clean_new_url(self) -> str:
        value = str(self.cleaned_data.get("new_url") or "").strip()
        if not value and not self.instance.pk:
            raise forms.ValidationError(_("A new target needs a URL."))
        if value:
            try:
                services.validate_apprise_url(value)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return value

    def save(self, commit: bool = True) -> NotificationTarget:
        target = super().save(commit=False)
        if self.cleaned_data.get("new_url"):
            target.url = self.cleaned_data["new_url"]
        if commit:
            target.save()
        return target


@admin.register(NotificationTarget)
class TargetAdmin(_TargetAdmin):
    form = TargetForm
    list_display = ("label", "scheme", "agent", "workspace", "active")
    list_filter = ("scheme", "active", "workspace")
    raw_id_fields = ("agent",)


@admin.register(Delivery)
class DeliveryAdmin(_DeliveryAdmin):
    list_display = ("notification", "channel", "destination", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel", "workspace")
    search_fields = ("destination", "last_error", "notification__title")
    raw_id_fields = ("notification", "target")
    readonly_fields = tuple(f.name for f in Delivery._meta.fields)
    actions = ("retry_now",)

    @admin.action(description=_("Retry now (fresh attempt budget)"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = services.deliveries_requeue(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(n)d deliveries queued again.") % {"n": count}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
