"""Normalising channel identities so the same person resolves to one contact (pure, no Django)."""

from __future__ import annotations

import re

import phonenumbers

_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+$")


class IdentityError(ValueError):
    """The value is not a valid identity of its kind."""


def normalize_email(value: str) -> str:
    """Lower-cased, trimmed address; raises IdentityError when it is not an address."""
    email = value.strip().strip("<>").lower()
    if not _EMAIL.match(email):
        raise IdentityError(f"'{value}' is not an email address.")
    return email


def normalize_phone(value: str, default_region: str = "CN") -> str:
    """E.164 form of a phone number; numbers without a country code take the default region (CN: +86)."""
    try:
        parsed = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError(f"'{value}' is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise IdentityError(f"'{value}' is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> str:
    """Normalise any identity by kind; ids of messaging platforms are kept as given (trimmed)."""
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value)
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 255:
        raise IdentityError(f"An identity of kind '{kind}' must be 1–255 characters.")
    return cleaned
