"""Reading untrusted JSON payloads: every shape error becomes a PayloadError with a readable reason (pure)."""

from __future__ import annotations

from typing import Any

from pivotdesk.channels.domain.inbound import PayloadError
from pivotdesk.common.json_guard import loads_guarded


def load_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError."""
    try:
        data = loads_guarded(raw)  # too deep or too large: JsonRejected, a ValueError (never a RecursionError)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    return as_object(data, "The body")


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object.")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    """A list, with a missing value read as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} must be a list.")
    return value


def as_text(value: Any, what: str, *, required: bool = False) -> str:
    """A string (numbers accepted as ids); missing → "" unless required."""
    if value is None or value == "":
        if required:
            raise PayloadError(f"{what} is missing.")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError(f"{what} must be a string.")
    text = str(value)
    if required and not text.strip():
        raise PayloadError(f"{what} is missing.")
    return text
