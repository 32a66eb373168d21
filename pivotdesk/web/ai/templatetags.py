"""Template helpers of the AI screens: percentages, permission checks for navigation."""

from __future__ import annotations

from typing import Any

from django import template

from pivotdesk.accounts.permissions import Perm, can

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
