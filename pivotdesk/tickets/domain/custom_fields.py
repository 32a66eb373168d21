"""Validation of typed custom field values (pure): text, number, date, select, multi-select, checkbox."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 10_000


@dataclass(frozen=True)
class FieldSpec:
    """What the validator needs to know of a field definition."""

    key: str
    field_type: str
    options: tuple[str, ...] = field(default_factory=tuple)
    required: bool = False


class FieldValueError(ValueError):
    """One or more values are invalid; `errors` maps each key to its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _coerce(spec: FieldSpec, value: Any) -> Any:
    if value is None or value in ("", []):
        return None
    kind = spec.field_type
    if kind == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("must be text")
        text = str(value)
        if len(text) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return text
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError("must be a number") from exc
        if not isinstance(number, int | float) or not math.isfinite(number):
            raise ValueError("must be a finite number")
        return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise ValueError("must be a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date (YYYY-MM-DD)") from exc
    if kind == "select":
        if not isinstance(value, str) or value not in spec.options:
            raise ValueError(f"must be one of: {', '.join(spec.options)}")
        return value
    if kind == "multiselect":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise ValueError("must be a list of options")
        bad = [v for v in values if v not in spec.options]
        if bad:
            raise ValueError(f"unknown options {bad}; allowed: {', '.join(spec.options)}")
        return sorted(set(values), key=list(spec.options).index)
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ValueError("must be true or false")
    raise ValueError(f"has an unknown type '{kind}'")


def validate_values(specs: dict[str, FieldSpec], current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `current`, coercing each value to its type; unknown keys and bad values raise
    FieldValueError listing every problem. A None/empty value removes the key."""
    errors: dict[str, str] = {}
    result = dict(current)
    for key, raw in changes.items():
        spec = specs.get(key)
        if spec is None:
            errors[key] = "is not a custom field of this workspace"
            continue
        try:
            coerced = _coerce(spec, raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if coerced is None:
            result.pop(key, None)
        else:
            result[key] = coerced
    if errors:
        raise FieldValueError(errors)
    return result


def missing_required(specs: dict[str, FieldSpec], values: dict[str, Any]) -> list[str]:
    """Keys of required fields without a value (checked before a ticket is solved)."""
    return [k for k, s in specs.items() if s.required and values.get(k) in (None, "", [])]
