"""The stable error codes of contacts, identities and organizations: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum


class CustomerErrorCode(StrEnum):
    ALREADY_MERGED = "already_merged"
    IDENTITY_TAKEN = "identity_taken"
    INVALID_IDENTITY = "invalid_identity"
    NOT_UPDATABLE = "not_updatable"
    ORGANIZATION_EXISTS = "organization_exists"
    UNKNOWN_REFERENCE = "unknown_reference"
