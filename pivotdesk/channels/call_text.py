"""A call's messages in the reader's language (issue 12: rendered at display time, not stored as English).

The CTI adapter stores each call event's facts in the message's `metadata["call"]` (caller, callee, event, the
duration) plus `media_errors` and the recording as an attachment; the stored body text stays as the fallback that
search and the API read. `call_text` renders the line the agent reads from those facts, in the active language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int) or seconds < 0:
        return gettext("unknown duration")
    minutes, rest = divmod(seconds, 60)
    if minutes:
        return gettext("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}
    return gettext("%(seconds)s s") % {"seconds": rest}


def call_text(metadata: dict[str, Any] | None, *, agent_name: str = "", has_recording: bool = False) -> str | None:
    """The message's text rendered from its call facts, or None when it is not a call message."""
    call = (metadata or {}).get("call")
    if not isinstance(call, dict):
        return None
    event = call.get("event") or "call.started"
    if event == "call.started":
        caller, to = str(call.get("from") or ""), str(call.get("to") or "")
        if not caller:
            return None
        if to:
            return gettext("Incoming call from %(caller)s to %(to)s") % {"caller": caller, "to": to}
        return gettext("Incoming call from %(caller)s") % {"caller": caller}
    if event == "call.answered":
        who = agent_name or str(call.get("agent_email") or "") or gettext("an agent")
        return gettext("Call answered by %(who)s.") % {"who": who}
    if event == "call.ended":
        parts = [gettext("Call ended after %(duration)s.") % {"duration": _duration(call.get("duration_s"))}]
        errors = (metadata or {}).get("media_errors") or []
        if has_recording:
            parts.append(gettext("Recording attached."))
        elif errors:
            detail = "; ".join(str(e) for e in errors)
            parts.append(gettext("The recording could not be downloaded: %(errors)s") % {"errors": detail})
        return " ".join(parts)
    return None
