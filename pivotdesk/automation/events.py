"""The automation domain's events: typed, stored with the change (rule 13). Outgoing webhooks hear them all."""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class RuleFired(Event):
    name = "automation.rule_fired"
    description = "A trigger or time rule fired on a ticket (a rule's webhook action: endpoints subscribe to this)."
    rule_id: int
    rule_version: int
    ticket_id: int
    actions: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)


@register
@dataclass(frozen=True, kw_only=True)
class ApprovalDecided(Event):
    name = "automation.approval_decided"
    description = "An approver decided a stage of an approval flow (approve, reject, request changes)."
    approval_id: int
    ticket_id: int
    stage_key: str
    verdict: str
    status: str


@register
@dataclass(frozen=True, kw_only=True)
class ChainStageChanged(Event):
    name = "automation.chain_stage_changed"
    description = "A stage of a linked ticket chain opened, finished or ran late."
    chain_id: int
    ticket_id: int
    stage_key: str
    change: str


@register
@dataclass(frozen=True, kw_only=True)
class BusinessEventReceived(Event):
    name = "automation.business_event"
    description = "An external business event (shipment.delayed, payment.failed, …) was matched to a chain or ticket."
    business_event_id: int
    type: str
    key: str
    ticket_id: int | None = None
    chain_id: int | None = None
