"""JSON from strangers, parsed without a 500: a nesting check before `json.loads`.

Python's json module recurses once per `[` or `{`; a body of 10,000 brackets raises RecursionError, which no
caller expected (a 500 — and in a channel webhook, before the raw payload was stored). `loads_guarded()` counts
the nesting first, outside strings, without recursion, and raises `JsonRejected` (a ValueError, so every
`except ValueError` around `json.loads` already handles it) when it is too deep or too large.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
"""Deeper than any payload we accept (Telegram, WhatsApp and our own API nest under 10 levels)."""

MAX_BYTES = 30 * 1024 * 1024
"""The largest body Django accepts anyway (DATA_UPLOAD_MAX_MEMORY_SIZE)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class JsonRejected(ValueError):
    """The text is not parsed: nested deeper than allowed, or larger than allowed."""


def nesting_depth(raw: bytes | str, *, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in `raw` (brackets inside strings do not count); with
    `stop_above`, the walk stops as soon as the depth passes it (the answer is then `stop_above + 1`)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    opening = brackets.count(b"[") + brackets.count(b"{")
    if stop_above is not None and opening <= stop_above:
        return opening  # cannot be deeper than the number of openings: no walk needed
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest


def loads_guarded(raw: bytes | str, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """`json.loads(raw)` unless `raw` is larger than `max_bytes` or nested deeper than `max_depth`
    (then `JsonRejected`); invalid JSON raises ValueError as `json.loads` does."""
    if len(raw) > max_bytes:
        raise JsonRejected(f"JSON larger than {max_bytes} bytes.")
    if nesting_depth(raw, stop_above=max_depth) > max_depth:
        raise JsonRejected(f"JSON nested deeper than {max_depth} levels.")
    return json.loads(raw)
