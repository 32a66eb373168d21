"""Django admin for AI triage: read-only views of step runs, predictions, entities, model versions and LLM calls
(provenance is evidence: nothing here edits it), and an action to re-run triage on tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pivotdesk.ai import pipeline
from pivotdesk.ai.models import ExtractedEntity, ModelVersion, Prediction, TriageRun

if TYPE_CHECKING:
    _RunAdmin = admin.ModelAdmin[TriageRun]
    _PredictionAdmin = admin.ModelAdmin[Prediction]
    _EntityAdmin = admin.ModelAdmin[ExtractedEntity]
    _ModelVersionAdmin = admin.ModelAdmin[ModelVersion]
else:
    _RunAdmin = _PredictionAdmin = _EntityAdmin = _ModelVersionAdmin = admin.ModelAdmin


class ReadOnly:
    """Rows written by the pipeline only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TriageRun)
class TriageRunAdmin(ReadOnly, _RunAdmin):
    list_display = ("ticket", "message", "step", "status", "attempts", "model_name", "model_version", "duration_ms")
    list_filter = ("step", "status", "workspace")
    search_fields = ("ticket__number", "error")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket", "message")
    actions = ("rerun",)

    @admin.action(description="Re-run triage on these tickets (forced)")
    def rerun(self, request: HttpRequest, queryset: QuerySet[TriageRun]) -> None:
        ids = sorted(set(queryset.values_list("ticket_id", flat=True)))
        for ticket_id in ids:
            pipeline.triage_ticket(ticket_id=ticket_id, force=True)
        self.message_user(request, f"Re-ran triage on {len(ids)} tickets.", messages.SUCCESS)


@admin.register(Prediction)
class PredictionAdmin(ReadOnly, _PredictionAdmin):
    list_display = ("ticket", "field", "label", "confidence", "status", "model_name", "model_version", "created_at")
    list_filter = ("field", "status", "workspace")
    search_fields = ("ticket__number", "label", "model_name")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket", "human_agent")


@admin.register(ExtractedEntity)
class ExtractedEntityAdmin(ReadOnly, _EntityAdmin):
    list_display = ("ticket", "kind", "value", "source", "target_field", "confidence")
    list_filter = ("kind", "source", "workspace")
    search_fields = ("ticket__number", "value")
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket", "message", "attachment")


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnly, _ModelVersionAdmin):
    list_display = ("field", "version", "algorithm", "active", "n_train", "n_test", "workspace", "created_at")
    list_filter = ("field", "active", "workspace")


# Connector and LLMCall are registered by admin_llm (the LLM and enrichment module's own admin).
from pivotdesk.ai import admin_llm  # noqa: E402, F401
