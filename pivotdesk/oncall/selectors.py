"""Read-only queries of oncall used by other parts of the desk (cheap checks before queueing a task)."""

from __future__ import annotations

from typing import Any


def event_may_ask_for_person(event: dict[str, Any]) -> bool:
    """message.created: only a customer's public message can ask the after-hours bot for a person."""
    payload = event.get("payload") or {}
    return payload.get("author_type") == "contact" and payload.get("kind") == "public"
