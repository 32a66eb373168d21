"""The stable error codes of the channels app: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, the widget, scripts, tests) may rely on these; a message may change wording, a code
may not.
"""

from __future__ import annotations

from enum import StrEnum


class ChannelErrorCode(StrEnum):
    CHANNEL_NOT_FOUND = "channel_not_found"
    CHANNEL_EXISTS = "channel_exists"
    UNKNOWN_KIND = "unknown_kind"
    NAME_REQUIRED = "name_required"
    PAYLOAD_NOT_FOUND = "payload_not_found"
    DELIVERY_NOT_FOUND = "delivery_not_found"
    SUBMISSION_NOT_FOUND = "submission_not_found"
    MESSAGE_NOT_FOUND = "message_not_found"
    SENDER_RATE_LIMITED = "sender_rate_limited"
    HOST_NOT_ALLOWED = "host_not_allowed"
