"""Every write of the sla app goes through these services (split by purpose)."""

from pivotdesk.sla.services.apply import DueFiring, SlaResult, sla_apply, sla_clear
from pivotdesk.sla.services.configuration import (
    calendar_create,
    calendar_update,
    escalation_level_set,
    policy_create,
    policy_delete,
    policy_reorder,
    policy_update,
    recheck_contact_tickets,
    recheck_organization_tickets,
    team_calendar_set,
)
from pivotdesk.sla.services.matching import match_policy
from pivotdesk.sla.services.scan import ScanReport, sla_check_ticket, sla_scan_due

__all__ = [
    "DueFiring",
    "ScanReport",
    "SlaResult",
    "calendar_create",
    "calendar_update",
    "escalation_level_set",
    "match_policy",
    "policy_create",
    "policy_delete",
    "policy_reorder",
    "policy_update",
    "recheck_contact_tickets",
    "recheck_organization_tickets",
    "sla_apply",
    "sla_check_ticket",
    "sla_clear",
    "sla_scan_due",
    "team_calendar_set",
]
