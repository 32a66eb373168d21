"""Normalising channel identities so the same person resolves to one contact (pure, no Django)."""

from __future__ import annotations

import re

import phonenumbers

_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+$")


class IdentityError(ValueError):
    """The value is not a valid identity of its kind. `template` (English, with named placeholders) and `params`
    let the services translate the reason (this module imports no Django); `str()` is the English reason."""

    def __init__(self, template: str, **params: str) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params


def normalize_email(value: str) -> str:
    """Lower-cased, trimmed address; raises IdentityError when it is not an address."""
    email = value.strip().strip("<>").lower()
    if not _EMAIL.match(email):
        raise IdentityError("'%(value)s' is not an email address.", value=value)
    return email


def normalize_phone(value: str, default_region: str = "CN") -> str:
    """E.164 form of a phone number; numbers without a country code take the default region (CN: +86)."""
    try:
        parsed = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError("'%(value)s' is not a phone number.", value=value) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise IdentityError("'%(value)s' is not a possible phone number.", value=value)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> str:
    """Normalise any identity by kind; ids of messaging platforms are kept as given (trimmed)."""
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value)
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 255:
        raise IdentityError("An identity of kind '%(kind)s' must be 1–255 characters.", kind=kind)
    return cleaned
