"""Django admin for outgoing webhooks: endpoints with their recent deliveries, replay and test actions.

Actions call services (never write models themselves); the acting admin is recorded as a system actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import DomainError
from pivotdesk.webhooks import services
from pivotdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _EndpointAdmin = admin.ModelAdmin[WebhookEndpoint]
    _DeliveryAdmin = admin.ModelAdmin[WebhookDelivery]
    _DeliveryInline = admin.TabularInline[WebhookDelivery, WebhookEndpoint]
    _AttemptInline = admin.TabularInline[WebhookAttempt, WebhookDelivery]
    _EndpointForm = forms.ModelForm[WebhookEndpoint]
else:
    _EndpointForm = forms.ModelForm
    _EndpointAdmin = _DeliveryAdmin = admin.ModelAdmin
    _DeliveryInline = _AttemptInline = admin.TabularInline


def _actor(request: HttpRequest) -> Actor:
    return Actor.system(f"admin:{request.user.get_username()}")


class DeliveryInline(_DeliveryInline):
    model = WebhookDelivery
    fields = ("event_name", "status", "attempts", "last_status_code", "last_error", "next_attempt_at", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        # The newest deliveries only: an endpoint may have millions.
        qs = super().get_queryset(request)
        recent = list(qs.order_by("-created_at").values_list("pk", flat=True)[:20])
        return qs.filter(pk__in=recent)


class EndpointForm(_EndpointForm):
    """Validates with the service's rules, so the save (through the service) cannot fail afterwards."""

    class Meta:
        model = WebhookEndpoint
        fields = ("workspace", "url", "description", "event_types", "active")

    def clean_url(self) -> str:
        try:
            return services.endpoints.clean_url(self.cleaned_data.get("url") or "")
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_event_types(self) -> list[str]:
        value = self.cleaned_data.get("event_types") or []
        if not isinstance(value, list):
            raise forms.ValidationError("A JSON list of event names.")
        try:
            return services.endpoints.clean_event_types(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_EndpointAdmin):
    list_display = ("url", "workspace", "active", "disabled_at", "consecutive_failures", "created_at")
    list_filter = ("active", "workspace")
    search_fields = ("url", "description")
    # The secret is never shown again (only its hint); rotate it through the API or the settings page.
    readonly_fields = (
        "secret_hint",
        "secret_rotated_at",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
    )
    inlines = (DeliveryInline,)
    actions = ("send_test_event",)
    form = EndpointForm

    @admin.action(description="Send a test event (webhook.ping)")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_ping(endpoint=endpoint, actor=_actor(request))
        self.message_user(request, f"Queued a test event for {queryset.count()} endpoint(s).", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        actor = _actor(request)
        if change:
            changes = {f: getattr(obj, f) for f in form.changed_data if f in services.endpoints.UPDATABLE}
            fresh = WebhookEndpoint.objects.get(pk=obj.pk)
            services.webhook_endpoint_update(endpoint=fresh, actor=actor, changes=changes)
        else:
            created = services.webhook_endpoint_create(
                workspace=obj.workspace,
                url=obj.url,
                actor=actor,
                description=obj.description,
                event_types=obj.event_types,
                active=obj.active,
            )
            obj.pk = created.pk
            obj.secret_hint = created.secret_hint
            if created.issued_secret:
                # Shown once, like the API's create answer: the admin configures the receiver with it now.
                self.message_user(
                    request,
                    gettext("Signing secret (shown only now): %(secret)s") % {"secret": created.issued_secret},
                    messages.WARNING,
                )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint=obj, actor=_actor(request))


class AttemptInline(_AttemptInline):
    model = WebhookAttempt
    fields = ("number", "succeeded", "status_code", "error", "duration_ms", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_DeliveryAdmin):
    list_display = ("event_name", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at", "created_at")
    list_filter = ("status", "event_name")
    search_fields = ("event_id", "endpoint__url")
    list_select_related = ("endpoint",)
    readonly_fields = tuple(f.name for f in WebhookDelivery._meta.fields)
    inlines = (AttemptInline,)
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                services.webhook_delivery_replay(delivery=delivery, actor=_actor(request))
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Delivery {delivery.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Replayed {done} deliveries.", messages.SUCCESS)
