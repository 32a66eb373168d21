"""Template helpers of the public web form."""

from __future__ import annotations

from typing import Any

from django import template

from pivotdesk.channels.domain.web_form import FormField

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """mapping[key], or None (templates cannot index by a variable)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def field_label(field: FormField, labels: dict[str, str], language: str) -> str:
    """A field's label in the page language: built-in ones from the translations, custom ones as configured."""
    if field.custom is None:
        return labels.get(field.key, field.key)
    if str(language).startswith("zh") and field.label_zh:
        return field.label_zh
    return field.label or field.key
