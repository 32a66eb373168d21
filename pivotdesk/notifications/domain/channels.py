"""Which external channels a kind goes to, given an agent's preference mapping.

A mapping key is a kind ("sla.breach"), a group ("sla.*" — every kind before whose first dot is "sla") or the
fallback "*". The most specific key wins: kind, then group, then "*", then the defaults for the kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

EXTERNAL_CHANNELS: tuple[str, ...] = ("email", "apprise")


def group_of(kind: str) -> str:
    """The group key of a kind: "sla.breach" → "sla.*"; a kind without a dot is its own group "kind.*"."""
    return kind.split(".", 1)[0] + ".*"


def clean_channels(values: Iterable[object]) -> list[str]:
    """Known external channels only, in canonical order, without duplicates."""
    wanted = {str(v) for v in values}
    return [c for c in EXTERNAL_CHANNELS if c in wanted]


def channels_for(
    kind: str, mapping: Mapping[str, Sequence[object]] | None, defaults: Mapping[str, Sequence[str]]
) -> list[str]:
    """The external channels to use for this kind (in-app is implied and never listed)."""
    mapping = mapping or {}
    for key in (kind, group_of(kind), "*"):
        value = mapping.get(key)
        if isinstance(value, list | tuple):
            return clean_channels(value)
    for key in (kind, group_of(kind), "*"):
        if key in defaults:
            return clean_channels(defaults[key])
    return []


def matches(kind: str, patterns: Sequence[str]) -> bool:
    """Whether a kind is covered by a list of kinds/groups; an empty list covers every kind."""
    if not patterns:
        return True
    return any(p in ("*", kind, group_of(kind)) for p in patterns)
