"""Telling probable duplicate contacts apart (pure): normalised names, email look-alikes, phone digits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACE = re.compile(r"[\s\u3000.·・_-]+")


def name_key(name: str) -> str:
    """A name compared loosely: NFKC, case-folded, without spaces and dots ("Wang  Fang" = "wang fang" = "王 芳")."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def edit_distance(a: str, b: str, *, limit: int = 2) -> int:
    """Levenshtein distance, capped: once it exceeds `limit` the answer is limit + 1. Only the cells within `limit`
    of the diagonal are computed (a path outside that band costs more than `limit`), so a comparison costs
    O(len · limit), not O(len²): the ticket page compares a contact with hundreds of look-alike candidates."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, ca in enumerate(a, start=1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [over] * (len(b) + 1)
        current[0] = i if i <= limit else over
        best = current[0]
        for j in range(low, high + 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != b[j - 1]))
            current[j] = cost if cost <= limit else over
            best = min(best, current[j])
        if best > limit:
            return over
        previous = current
    return min(previous[-1], over)


@dataclass(frozen=True)
class LookalikeAnchors:
    """What an address within a few edits of another must share with it (see `email_lookalike_anchors`)."""

    prefix: str  # it starts with this (the edits were in the second half of the local part, or in the domain)
    suffix: str  # or it ends with this ("" = not used: too short to narrow anything)
    shortest: int
    longest: int


def _lookalike_name(email: str) -> bool:
    """Whether a typo of the address means anything: a local part of letters long enough to tell a typo from
    another name (not a QQ number or a phone: one digit off is another account), and a domain."""
    local, domain = split_email(email)
    return len(local) >= 4 and not local.isdigit() and bool(domain)


def email_lookalike_anchors(email: str, *, limit: int = 2) -> LookalikeAnchors | None:
    """Anchors for finding addresses within `limit` edits of `email` with a plain text search instead of comparing
    every address of the workspace (a common domain such as qq.com or gmail.com has tens of thousands). With the edits
    all in the second half of the local part or in the domain, the first half is intact: the address starts with it.
    With them all in the first half, it ends with the second half and the domain. Either way its length is within
    `limit`. Not found this way: an edit in each half. None when look-alikes mean nothing: a local part of digits (a
    QQ number or a phone: one digit off is another account) or one too short to tell a typo from another name."""
    if not _lookalike_name(email):
        return None
    local, domain = split_email(email)
    half = (len(local) + 1) // 2
    rest = local[half:]
    return LookalikeAnchors(
        prefix=local[:half],
        suffix=f"{rest}@{domain}" if len(rest) >= 2 else "",
        shortest=len(email) - limit,
        longest=len(email) + limit,
    )


_DIGITS = re.compile(r"\d+")


def similar_emails(a: str, b: str, *, limit: int = 2) -> bool:
    """Two different addresses within `limit` edits whose local parts are look-alike names: not numbers, and not
    the same name told apart by its digits only (customer7 and customer8, li.lei01 and li.lei02 are two accounts)."""
    if a == b or not _lookalike_name(a) or not _lookalike_name(b):
        return False
    if _DIGITS.sub("#", a) == _DIGITS.sub("#", b):
        return False
    return edit_distance(a, b, limit=limit) <= limit


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
