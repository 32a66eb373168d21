"""The stable error codes of the oncall app: the `code` of a DomainError, never translated."""

from __future__ import annotations

from enum import StrEnum


class OncallErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    DUPLICATE_NAME = "duplicate_name"
    INVALID_VALUE = "invalid_value"
    INVALID_PERIOD = "invalid_period"
    LINK_INVALID = "link_invalid"
    LINK_USED = "link_used"
    LINK_EXPIRED = "link_expired"
    WRONG_STATE = "wrong_state"
    WRONG_WORKSPACE = "wrong_workspace"
