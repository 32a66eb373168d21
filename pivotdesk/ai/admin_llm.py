"""Django admin for the LLM call log (read-only) and enrichment connectors (saved through the services).

Connector secrets are write-only: the form takes new secret headers as JSON and never shows the stored ones.
Imported by the ai app's admin module (kept separate so the LLM/connector part has one owner).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import Connector, LLMCall
from pivotdesk.ai.services import connectors as services
from pivotdesk.common.errors import DomainError

# Django's admin classes are generic only for the type checker (no django_stubs_ext monkeypatch at run time).
if TYPE_CHECKING:
    _ConnectorAdmin = admin.ModelAdmin[Connector]
    _LLMCallAdmin = admin.ModelAdmin[LLMCall]
    _ConnectorForm = forms.ModelForm[Connector]
else:
    _ConnectorForm = forms.ModelForm
    _ConnectorAdmin = _LLMCallAdmin = admin.ModelAdmin

EDITABLE = (
    "name",
    "entity_kind",
    "url_template",
    "method",
    "headers",
    "fields",
    "summary_template",
    "timeout_seconds",
    "active",
)


def _actor(request: HttpRequest) -> Actor:
    return Actor.system(f"admin:{request.user.get_username()}")


class ConnectorForm(_ConnectorForm):
    """Validates with the service's rules, so the save (through the service) cannot fail afterwards."""

    new_secret_headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Secret headers as JSON, e.g. {"Authorization": "Bearer …"}. Stored encrypted and never shown; '
        "leave empty to keep the stored ones, {} to remove them.",
    )

    class Meta:
        model = Connector
        fields = ("workspace", *EDITABLE)

    def clean_new_secret_headers(self) -> dict[str, str] | None:
        raw = (self.cleaned_data.get("new_secret_headers") or "").strip()
        if not raw:
            return None
        try:
            return services.clean_headers(json.loads(raw), what="secret_headers")
        except ValueError as exc:
            raise forms.ValidationError("Not valid JSON.") from exc
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {k: cleaned[k] for k in EDITABLE if k in cleaned}
        try:
            cleaned.update(services.clean_values(values))
        except DomainError as exc:
            field = next(iter(exc.details), None)
            self.add_error(field if field in EDITABLE else None, exc.message)
        return cleaned


@admin.register(Connector)
class ConnectorAdmin(_ConnectorAdmin):
    list_display = ("name", "workspace", "entity_kind", "method", "url_template", "active", "updated_at")
    list_filter = ("active", "entity_kind", "workspace")
    search_fields = ("name", "url_template")
    form = ConnectorForm

    def save_model(self, request: HttpRequest, obj: Connector, form: Any, change: bool) -> None:
        secrets = form.cleaned_data.get("new_secret_headers")
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE}
            fresh = Connector.objects.get(pk=obj.pk)
            services.connector_update(connector=fresh, actor=_actor(request), changes=changes, secret_headers=secrets)
        else:
            values = {f: form.cleaned_data[f] for f in EDITABLE}
            created = services.connector_create(
                workspace=obj.workspace, actor=_actor(request), secret_headers=secrets, **values
            )
            obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Connector) -> None:
        services.connector_delete(connector=obj, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        for connector in queryset:
            services.connector_delete(connector=connector, actor=_actor(request))


@admin.register(LLMCall)
class LLMCallAdmin(_LLMCallAdmin):
    list_display = (
        "created_at",
        "workspace",
        "purpose",
        "model",
        "prompt_name",
        "prompt_version",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "latency_ms",
        "ok",
    )
    list_filter = ("ok", "purpose", "model", "prompt_version")
    search_fields = ("model", "prompt_name", "error")
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in LLMCall._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False
