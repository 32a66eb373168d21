"""The stable error codes of the knowledge app: the `code` of a DomainError, never translated."""

from __future__ import annotations

from enum import StrEnum


class KnowledgeErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    INVALID_VALUE = "invalid_value"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_TRANSLATION = "duplicate_translation"
