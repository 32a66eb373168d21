"""@mentions in an internal note: which colleagues a text names, by their username ("@zhaolei, can you check?").

A handle starts after the text's start or a character that cannot be part of a word or an e-mail address, so
"ops@example.com" names nobody; it is made of the characters a username may have, without a trailing full stop
("thanks @li." names "li").
"""

from __future__ import annotations

import re

_HANDLE = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9_][A-Za-z0-9_.+-]{0,149})")
MAX_MENTIONS = 20  # a note naming more is a broadcast: the first twenty are told


def handles(text: str) -> list[str]:
    """The distinct usernames the text mentions, in order of first mention, lower-cased, at most MAX_MENTIONS."""
    seen: dict[str, None] = {}
    for match in _HANDLE.finditer(text or ""):
        name = match.group(1).rstrip(".-+").lower()
        if name and name not in seen:
            seen[name] = None
    return list(seen)[:MAX_MENTIONS]
