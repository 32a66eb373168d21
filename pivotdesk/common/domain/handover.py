"""Whether a customer asks for a person: one rule for every bot that may answer before an agent (the knowledge
bot on the chat widget, night duty's after-hours bot)."""

from __future__ import annotations

import re

_ASK_ZH = ("人工", "真人", "客服人员")
_ASK_EN = re.compile(r"\b(human|agent|person|operator|someone real|real person)\b", re.IGNORECASE)
ASK_MAX_CHARS = 200  # a longer message is a question that mentions a person, not a request for one


def asked_for_person(text: str) -> bool:
    """Whether a customer's short message asks for a person ("人工", "转人工", "human please")."""
    text = (text or "").strip()
    if not text or len(text) > ASK_MAX_CHARS:
        return False
    return any(word in text for word in _ASK_ZH) or _ASK_EN.search(text) is not None
