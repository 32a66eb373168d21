"""Small text rules for tickets (pure)."""

from __future__ import annotations

import re

_TAG_OK = re.compile(r"[^\w\-:.\u4e00-\u9fff]+", re.UNICODE)


def normalize_tag(raw: str) -> str:
    """Tags are lower-case, without spaces (spaces become '_'), at most 64 characters."""
    tag = _TAG_OK.sub("_", raw.strip().lower()).strip("_")
    return tag[:64].rstrip("_")  # a cut may end on a separator


def subject_from_body(body: str, limit: int = 80) -> str:
    """A subject for a ticket created without one: the first non-empty line, shortened."""
    for raw in body.splitlines():
        line = raw.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return "(no subject)"
