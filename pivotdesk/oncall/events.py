"""The oncall domain's events: typed, stored with the change (rule 13)."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class PageTriggered(Event):
    name = "oncall.page_triggered"
    description = "An urgent ticket paged the on-call engineer (an incident on the ticket)."
    page_id: int
    ticket_id: int
    policy_id: int | None


@register
@dataclass(frozen=True, kw_only=True)
class PageEscalated(Event):
    name = "oncall.page_escalated"
    description = "Nobody acknowledged a page in time: the next level was paged."
    page_id: int
    ticket_id: int
    level: int
    cycle: int


@register
@dataclass(frozen=True, kw_only=True)
class PageAcknowledged(Event):
    name = "oncall.page_acknowledged"
    description = "A page was acknowledged: the escalation stopped and the ticket went to the acknowledger."
    page_id: int
    ticket_id: int
    agent_id: int | None
    partner_id: int | None


@register
@dataclass(frozen=True, kw_only=True)
class PageResolved(Event):
    name = "oncall.page_resolved"
    description = "A page was resolved."
    page_id: int
    ticket_id: int
