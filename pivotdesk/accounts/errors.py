"""The stable error codes of workspaces, agents, teams, tokens and the permission gate: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum


class AccountErrorCode(StrEnum):
    AGENT_EXISTS = "agent_exists"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    NOT_ASSIGNABLE = "not_assignable"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_UPDATABLE = "not_updatable"
    PERMISSION_DENIED = "permission_denied"
    SYSTEM_ONLY = "system_only"
    TEAM_EXISTS = "team_exists"
    TWO_FACTOR_CODE_WRONG = "two_factor_code_wrong"
    TWO_FACTOR_STATE = "two_factor_state"
    TWO_FACTOR_THROTTLED = "two_factor_throttled"
    UNKNOWN_REFERENCE = "unknown_reference"
    WORKSPACE_EXISTS = "workspace_exists"
