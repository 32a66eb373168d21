"""The customers domain's events (contacts and organizations): typed, stored with the change."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class ContactCreated(Event):
    name = "contact.created"
    description = "A contact (customer) was created."
    contact_id: int


@register
@dataclass(frozen=True, kw_only=True)
class ContactUpdated(Event):
    name = "contact.updated"
    description = "A contact's name, organization, tier, language, time zone or notes changed."
    contact_id: int


@register
@dataclass(frozen=True, kw_only=True)
class ContactMerged(Event):
    name = "contact.merged"
    description = "A contact (source_id) was merged into another (target_id)."
    source_id: int
    target_id: int


@register
@dataclass(frozen=True, kw_only=True)
class OrganizationUpdated(Event):
    name = "organization.updated"
    description = "A customer organization changed (tier, domains, …)."
    organization_id: int
    fields: list[str]
