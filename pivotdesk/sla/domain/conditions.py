"""Which tickets an SLA policy applies to: a small typed condition model, matched against a ticket's facts.

Every condition is a set of allowed values; an empty set means "any". All conditions must hold (AND); inside one
condition any value may match (OR). Tags have three forms: any of, all of, none of. A category condition also
matches the category's descendants (a policy for "Billing" covers "Billing › Refunds"). Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SET_FIELDS = (
    "priorities",
    "tiers",
    "organization_ids",
    "channels",
    "category_ids",
    "ticket_types",
    "tags_any",
    "tags_all",
    "tags_none",
)
ID_FIELDS = frozenset({"organization_ids", "category_ids"})


class ConditionError(ValueError):
    """Conditions that do not validate; `errors` maps a condition name to a readable reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class TicketFacts:
    """What the conditions look at, read from a ticket. `category_ids` holds the category and its ancestors."""

    priority: str = ""
    tier: str = ""
    organization_id: int | None = None
    channel: str = ""
    category_ids: frozenset[int] = frozenset()
    ticket_type: str = ""
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Conditions:
    """A policy's conditions (all must hold; an empty set matches anything)."""

    priorities: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    organization_ids: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    category_ids: frozenset[int] = frozenset()
    ticket_types: frozenset[str] = frozenset()
    tags_any: frozenset[str] = frozenset()
    tags_all: frozenset[str] = frozenset()
    tags_none: frozenset[str] = frozenset()

    def matches(self, facts: TicketFacts) -> bool:
        """Whether a ticket with these facts falls under the policy."""
        checks = (
            not self.priorities or facts.priority in self.priorities,
            not self.tiers or facts.tier in self.tiers,
            not self.organization_ids or facts.organization_id in self.organization_ids,
            not self.channels or facts.channel in self.channels,
            not self.category_ids or bool(self.category_ids & facts.category_ids),
            not self.ticket_types or facts.ticket_type in self.ticket_types,
            not self.tags_any or bool(self.tags_any & facts.tags),
            self.tags_all <= facts.tags,
            not (self.tags_none & facts.tags),
        )
        return all(checks)

    @property
    def is_empty(self) -> bool:
        """True when the policy applies to every ticket (a catch-all)."""
        return not any(getattr(self, f) for f in SET_FIELDS)

    def to_json(self) -> dict[str, list[Any]]:
        """The stored form: only non-empty conditions, values sorted (stable diffs)."""
        return {f: sorted(getattr(self, f)) for f in SET_FIELDS if getattr(self, f)}

    @classmethod
    def from_json(cls, data: Any, *, allowed: Mapping[str, Iterable[str]] | None = None) -> Conditions:
        """Validate the stored form. `allowed` restricts the values of string conditions (e.g. priorities to the four
        priorities); unknown condition names and values outside `allowed` raise ConditionError."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConditionError({"conditions": "an object of condition → list of values"})
        errors: dict[str, str] = {}
        unknown = set(data) - set(SET_FIELDS)
        for name in sorted(unknown):
            errors[name] = f"unknown condition (known: {', '.join(SET_FIELDS)})"
        values: dict[str, frozenset[Any]] = {}
        for name in SET_FIELDS:
            raw = data.get(name)
            if raw is None:
                continue
            if isinstance(raw, str | int):
                raw = [raw]
            if not isinstance(raw, list | tuple | set | frozenset):
                errors[name] = "a list of values"
                continue
            if name in ID_FIELDS:
                try:
                    values[name] = frozenset(int(v) for v in raw)
                except (TypeError, ValueError):
                    errors[name] = "a list of ids"
                continue
            cleaned = frozenset(str(v).strip().lower() if name.startswith("tags") else str(v) for v in raw)
            cleaned = frozenset(v for v in cleaned if v)
            if allowed is not None and name in allowed:
                bad = sorted(cleaned - set(allowed[name]))
                if bad:
                    errors[name] = f"unknown value(s) {', '.join(bad)} (one of {', '.join(sorted(allowed[name]))})"
                    continue
            values[name] = cleaned
        if errors:
            raise ConditionError(errors)
        return cls(**values)


def first_match(policies: Iterable[tuple[Any, Conditions]], facts: TicketFacts) -> Any | None:
    """The first policy (in the given order) whose conditions match, else None."""
    for policy, conditions in policies:
        if conditions.matches(facts):
            return policy
    return None
