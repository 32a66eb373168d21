"""Template helpers of the AI screens: percentages, permission checks for navigation."""

from __future__ import annotations

from typing import Any

from django import template

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.web.ai import labels

register = template.Library()


@register.filter
def percent(value: Any) -> str:
    """0.8312 → "83%"; None → "—"."""
    if value is None:
        return "—"
    try:
        return f"{round(float(value) * 100)}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def may(agent: Any, perm: str) -> bool:
    """Whether the agent holds a permission ("reports.view")."""
    try:
        return can(agent, Perm(perm))
    except ValueError:
        return False


@register.filter
def ai_step(step: str) -> str:
    """A pipeline step's name in the active language."""
    return labels.step_label(str(step))


@register.filter
def ai_model(name: str) -> str:
    """A model's name in the active language (built-in models; trained and LLM models keep theirs)."""
    return labels.model_label(str(name or ""))


@register.filter
def ai_entity_kind(kind: str) -> str:
    return labels.entity_kind_label(str(kind))


@register.filter
def ai_skip_reason(reason: str) -> str:
    return labels.skip_reason_label(str(reason))


@register.filter
def ai_field(field: str) -> str:
    return labels.field_label(str(field))
