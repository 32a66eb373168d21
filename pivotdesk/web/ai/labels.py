"""The AI's codes in the reader's language (issue 12): pipeline step names, the built-in models' names, entity
kinds and the reasons a step was skipped. Stored runs and predictions keep the codes; these render them."""

from __future__ import annotations

from django.utils.translation import gettext as _


def step_label(step: str) -> str:
    labels = {
        "multimodal": _("Attachments (OCR, speech)"),
        "language": _("Language detection"),
        "entities": _("Entities"),
        "enrichment": _("Enrichment from connected systems"),
        "classify": _("Classification"),
        "sentiment": _("Sentiment"),
        "summary": _("Summary"),
    }
    return labels.get(step, step)


def model_label(name: str) -> str:
    """A model's name as shown next to what it set; names of trained and LLM models stay as they are."""
    base, _sep, suffix = name.partition(" (")
    labels = {
        "lingua": _("Language detector (Lingua)"),
        "lexicon-sentiment": _("Sentiment lexicon"),
        "extractive-summary": _("Extractive summary"),
        "entities": _("Entity patterns"),
        "connectors": _("Connected systems"),
        "pivotdesk-classify": _("Classifier"),
        "multimodal": _("Attachments (OCR, speech)"),
    }
    label = labels.get(base)
    if label is None:
        return name
    return f"{label} ({suffix}" if suffix else label


def entity_kind_label(kind: str) -> str:
    labels = {
        "id_number": _("ID number"),
        "email": _("E-mail"),
        "order_number": _("Order number"),
        "serial_number": _("Serial number"),
        "device_model": _("Device model"),
        "error_code": _("Error code"),
        "phone": _("Phone"),
        "money": _("Amount"),
        "address": _("Address"),
    }
    return labels.get(kind, kind)


def skip_reason_label(reason: str) -> str:
    labels = {
        "not installed": _("not installed"),
        "no model": _("no trained model"),
        "nothing to enrich": _("nothing to enrich"),
        "no text": _("no text"),
        "no output": _("no output"),
        "no trained model for this workspace": _("no trained model for this workspace"),
    }
    return labels.get(reason, reason)


def field_label(field: str) -> str:
    """A predicted field's name (language, category, …)."""
    from pivotdesk.web.ai.views import field_names

    return field_names().get(field, field)


def language_label(code: str) -> str:
    """A language the AI detected, by name ("zh" → "Chinese"); other codes as they are."""
    return {"zh": _("Chinese"), "en": _("English")}.get(code, code)
