"""Text that every database can store."""

from __future__ import annotations

from typing import Any


def without_nul(value: Any) -> Any:
    """`value` with every NUL character removed from its strings (dict keys included, recursively).

    PostgreSQL text and jsonb columns cannot hold NUL (SQLite can), so text from outside — a webhook's form field, a
    mail header, an API body — loses it before it is saved; raw payloads are kept whole as bytes elsewhere."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value
