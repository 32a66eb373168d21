"""Threading rules for mail (pure): the ticket token in a subject, normalised subjects for fallback matching."""

from __future__ import annotations

import re

TOKEN = re.compile(r"\[#(\d{1,12})\]")
_PREFIXES = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|rif|tr|ref|r|回复|回覆|答复|转发|轉寄|转寄)\s*(\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def ticket_number_in(subject: str) -> int | None:
    """The ticket number of a `[#10234]` token in the subject, if any (the last one wins: forwards add theirs)."""
    found = TOKEN.findall(subject or "")
    return int(found[-1]) if found else None


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (Re:, 回复：, AW: …), ticket tokens and spacing, lower-cased."""
    text = TOKEN.sub(" ", subject or "")
    previous = None
    while previous != text:
        previous = text
        text = _PREFIXES.sub("", text)
    return _SPACES.sub(" ", text).strip().lower()


def subject_with_token(subject: str, number: int) -> str:
    """Our outbound subject: the original subject with exactly one `[#number]` token at the end."""
    base = TOKEN.sub("", subject or "").strip()
    return f"{base} [#{number}]".strip()
