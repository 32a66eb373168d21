"""Routing's codes and stored decisions in the reader's language (`pivotdesk.web.routing.explain`)."""

from __future__ import annotations

from typing import Any

from django import template

from pivotdesk.web.routing import explain

register = template.Library()


@register.filter
def routing_reason(decision: Any) -> str:
    """A RoutingDecision, a domain Decision or a `routed` timeline event's data, explained in the active language."""
    if isinstance(decision, dict):
        return explain.reason_text(decision.get("reason_data"), decision.get("reason", ""))
    return explain.reason_text(getattr(decision, "reason_data", None), getattr(decision, "reason", ""))


@register.filter
def queue_reason(queued: Any) -> str:
    """The last reason a waiting ticket could not be assigned."""
    return explain.reason_text(getattr(queued, "last_reason_data", None), getattr(queued, "last_reason", ""))


@register.filter
def routing_strategy(code: str) -> str:
    return explain.strategy_label(code)


@register.filter
def routing_trigger(code: str) -> str:
    return explain.trigger_label(code)


@register.filter
def routing_factor(code: str) -> str:
    return explain.factor_label(code)


@register.filter
def routing_step(code: str) -> str:
    return explain.step_label(code)


@register.filter
def channel_type(code: str) -> str:
    return explain.channel_type_label(code)
