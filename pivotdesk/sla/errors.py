"""The stable error codes of the sla app: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, tests) may rely on these; a message may change wording, a code may not.
"""

from __future__ import annotations

from enum import StrEnum


class SlaErrorCode(StrEnum):
    CALENDAR_NOT_FOUND = "calendar_not_found"
    POLICY_NOT_FOUND = "policy_not_found"
    DUPLICATE_NAME = "duplicate_name"
    INVALID_NAME = "invalid_name"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_REFERENCE = "unknown_reference"
    UNKNOWN_COUNTRY = "unknown_country"
    INVALID_CONDITIONS = "invalid_conditions"
    INVALID_PAUSED_STATUSES = "invalid_paused_statuses"
    INVALID_POSITION = "invalid_position"
    INVALID_TARGET = "invalid_target"
    INVALID_ESCALATION = "invalid_escalation"
    INVALID_ACTION = "invalid_action"
