"""The stable error codes of workspaces, agents, teams, tokens and the permission gate: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum

from pivotdesk.common.errors import DomainError


class AccountErrorCode(StrEnum):
    AGENT_EXISTS = "agent_exists"
    AGENT_DEACTIVATED = "agent_deactivated"
    ALREADY_INVITED = "already_invited"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_INVALID = "invitation_invalid"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_WRONG_USER = "invitation_wrong_user"
    LAST_ADMIN = "last_admin"
    SELF_LOCKOUT = "self_lockout"
    USERNAME_TAKEN = "username_taken"
    WEAK_PASSWORD = "weak_password"  # noqa: S105 - an error code, not a password
    EMAIL_TAKEN = "email_taken"
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


class InvitationGone(DomainError):
    """An invitation link that was used, withdrawn or has expired (HTTP 410)."""

    status_code = 410
    code = "invitation_gone"
