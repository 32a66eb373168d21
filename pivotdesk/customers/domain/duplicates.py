"""Telling probable duplicate contacts apart (pure): normalised names, email look-alikes, phone digits."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\u3000.·・_-]+")


def name_key(name: str) -> str:
    """A name compared loosely: NFKC, case-folded, without spaces and dots ("Wang  Fang" = "wang fang" = "王 芳")."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def edit_distance(a: str, b: str, *, limit: int = 2) -> int:
    """Levenshtein distance, stopping early once it exceeds `limit` (then returns limit + 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


def phone_digits(value: str) -> str:
    """The digits of a phone number."""
    return "".join(ch for ch in value or "" if ch.isdigit())


def same_phone(a: str, b: str) -> bool:
    """Same digits, or one is the other without its country code (at least 7 digits in common)."""
    da, db = phone_digits(a), phone_digits(b)
    if len(da) < 7 or len(db) < 7:
        return False
    return da == db or da.endswith(db) or db.endswith(da)


def split_email(email: str) -> tuple[str, str]:
    local, _, domain = (email or "").lower().partition("@")
    return local, domain
