"""Placeholders in reply and note templates: `{{ ticket.number }}`, `{{ requester.name }}`, `{{ order.status }}`.

Deliberately not a template language: a placeholder is a dotted name looked up in a flat context; nothing is
evaluated, so a rule's author cannot run code or read what the context does not hold. An unknown placeholder is
left out (replaced by `missing`) and reported by `unknown`, so the rule editor can warn before saving.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PATTERN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,3})\s*\}\}")
MAX_VALUE_CHARS = 2000


def names(template: str) -> list[str]:
    """The placeholders a template uses, in order, without repeats."""
    return list(dict.fromkeys(m.group(1) for m in PATTERN.finditer(template or "")))


def unknown(template: str, known: set[str] | frozenset[str]) -> list[str]:
    """Placeholders the context will not have (`known` lists exact names; "order.*" allows any order field)."""
    prefixes = {k[:-1] for k in known if k.endswith(".*")}
    return [n for n in names(template) if n not in known and not any(n.startswith(p) for p in prefixes)]


def render(template: str, context: Mapping[str, object], *, missing: str = "") -> str:
    """The template with each placeholder replaced by its value from `context` (a flat dict of dotted names)."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return missing if found is None else str(found)[:MAX_VALUE_CHARS]

    return PATTERN.sub(value, template or "")
