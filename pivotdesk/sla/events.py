"""The SLA domain's events: typed, stored with the change (rule 13). Automation rules react to them."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class SlaWarning(Event):
    name = "sla.warning"
    description = "A ticket's SLA target is about to be missed (a warning fired)."
    ticket_id: int
    metric: str
    due_at: str | None


@register
@dataclass(frozen=True, kw_only=True)
class SlaBreached(Event):
    name = "sla.breached"
    description = "A ticket's SLA target was missed (a breach fired)."
    ticket_id: int
    metric: str
    due_at: str | None
