"""The stable error codes of notifications, preferences and targets: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum


class NotificationErrorCode(StrEnum):
    BAD_CHANNEL = "bad_channel"
    BAD_KIND = "bad_kind"
    BAD_URL = "bad_url"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    KIND_REQUIRED = "kind_required"
    LABEL_REQUIRED = "label_required"
    NOT_RETRYABLE = "not_retryable"
    PERMISSION_DENIED = "permission_denied"
    QUIET_HOURS_EMPTY = "quiet_hours_empty"
    QUIET_HOURS_INCOMPLETE = "quiet_hours_incomplete"
    WRONG_WORKSPACE = "wrong_workspace"
