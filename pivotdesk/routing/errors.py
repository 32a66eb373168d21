"""The stable error codes of the routing app: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, tests) may rely on these; a message may change wording, a code may not.
"""

from __future__ import annotations

from enum import StrEnum


class RoutingErrorCode(StrEnum):
    POLICY_NOT_FOUND = "policy_not_found"
    POLICY_EXISTS = "policy_exists"
    INVALID_NAME = "invalid_name"
    INVALID_CONDITIONS = "invalid_conditions"
    INVALID_NUMBER = "invalid_number"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_STRATEGY = "unknown_strategy"
    INVALID_WEIGHTS = "invalid_weights"
    INVALID_SENIORITY = "invalid_seniority"
    UNKNOWN_REFERENCE = "unknown_reference"
    SAME_OVERFLOW_TEAM = "same_overflow_team"
    INVALID_LEAVE = "invalid_leave"
    INVALID_QUANTITY = "invalid_quantity"
    REASON_REQUIRED = "reason_required"
    REASON_TOO_LONG = "reason_too_long"
    NOT_ASSIGNEE = "not_assignee"
    NOT_ASSIGNABLE = "not_assignable"
    NOT_ROUTABLE = "not_routable"
