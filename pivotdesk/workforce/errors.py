"""The stable error codes of the workforce app: the `code` of a DomainError, never translated."""

from __future__ import annotations

from enum import StrEnum


class WorkforceErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    DUPLICATE_NAME = "duplicate_name"
    INVALID_VALUE = "invalid_value"
    INVALID_PERIOD = "invalid_period"
    INVALID_FILE = "invalid_file"
    INVALID_ROWS = "invalid_rows"
    NO_HISTORY = "no_history"
    NO_AGENTS = "no_agents"
    NO_TEMPLATES = "no_templates"
    INFEASIBLE = "infeasible"
    NO_ROSTER_FOUND = "no_roster_found"
    NOT_DRAFT = "not_draft"
    WRONG_STATE = "wrong_state"
    NOT_YOURS = "not_yours"
    REASON_REQUIRED = "reason_required"
    RULES_BROKEN = "rules_broken"
    WRONG_WORKSPACE = "wrong_workspace"
