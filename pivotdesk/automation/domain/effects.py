"""What actions do to the facts a rule reads (pure): the trigger cycle checks the next rules against the ticket as
the earlier rules' actions left it. Only actions that change a field a condition can read change the facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pivotdesk.tickets.domain.text import normalize_tag

SETTABLE = frozenset({"status", "priority", "type", "category", "team", "assignee", "language"})


def simulate(facts: Mapping[str, Any], actions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The facts after `actions` (a new dict; the input is not changed). Changed fields are added to `changes`
    as [old, new], as the ticket's own update would report them."""
    out = dict(facts)
    changes = {k: list(v) for k, v in (facts.get("changes") or {}).items()}

    def change(name: str, value: Any) -> None:
        old = out.get(name)
        if old != value:
            changes[name] = [changes.get(name, [old, None])[0], value]
            out[name] = value

    for action in actions:
        kind = action.get("type")
        if kind == "set":
            name = str(action.get("field", ""))
            if name in SETTABLE or name.startswith("cf."):
                change(name, action.get("value"))
        elif kind in ("add_tags", "remove_tags"):
            tags = set(out.get("tags") or [])
            given = {normalize_tag(str(t)) for t in action.get("tags") or []} - {""}
            change("tags", sorted(tags | given if kind == "add_tags" else tags - given))
        elif kind == "assign":
            if action.get("agent") is not None:
                change("assignee", action.get("agent"))
            if action.get("team") is not None:
                change("team", action.get("team"))
    out["changes"] = changes
    return out
