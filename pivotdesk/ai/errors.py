"""The stable error codes of the ai app: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, tests) may rely on these; a message may change wording, a code may not.
"""

from __future__ import annotations

from enum import StrEnum


class AIErrorCode(StrEnum):
    PREDICTION_NOT_FOUND = "prediction_not_found"
    NOT_CORRECTABLE = "not_correctable"
    NOT_CONFIRMABLE = "not_confirmable"
    ALREADY_OVERRIDDEN = "already_overridden"
    INVALID_VALUE = "invalid_value"
    DUPLICATE = "duplicate"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_NAME = "invalid_name"
    INVALID_ENTITY_KIND = "invalid_entity_kind"
    INVALID_URL = "invalid_url"
    INVALID_METHOD = "invalid_method"
    INVALID_HEADERS = "invalid_headers"
    INVALID_FIELDS = "invalid_fields"
    INVALID_TEMPLATE = "invalid_template"
    INVALID_TIMEOUT = "invalid_timeout"
