"""The stable error codes of tickets, their conversation, links and configuration: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum


class TicketErrorCode(StrEnum):
    ALREADY_MERGED = "already_merged"
    BAD_REQUEST = "bad_request"
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    FIELD_EXISTS = "field_exists"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_BLOCKED = "file_type_blocked"
    INVALID_JSON = "invalid_json"
    INVALID_TRANSITION = "invalid_transition"
    NOT_UPDATABLE = "not_updatable"
    OPEN_CHILDREN = "open_children"
    PERMISSION_DENIED = "permission_denied"
    REQUIRED_FIELDS_MISSING = "required_fields_missing"
    STATUS_EXISTS = "status_exists"
    TARGET_CLOSED = "target_closed"
    TICKET_CLOSED = "ticket_closed"
    TICKET_MERGED = "ticket_merged"
    UNKNOWN_REFERENCE = "unknown_reference"
    UNKNOWN_VALUE = "unknown_value"
