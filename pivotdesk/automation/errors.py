"""The stable error codes of the automation app: the `code` of a DomainError, never translated."""

from __future__ import annotations

from enum import StrEnum


class AutomationErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    DUPLICATE_NAME = "duplicate_name"
    INVALID_CONDITIONS = "invalid_conditions"
    INVALID_ACTIONS = "invalid_actions"
    INVALID_VALUE = "invalid_value"
    WRONG_STATE = "wrong_state"
    NOT_AN_APPROVER = "not_an_approver"
    LINK_INVALID = "link_invalid"
