"""The stable error codes of webhook endpoints and deliveries: the `code` of a DomainError, never translated.

Clients (the API's JSON `code`, scripts, the UI's tests) may rely on these; a message may change wording, a code
may not. Codes not listed here are the classes' defaults (`validation_failed`, `not_found`, `conflict`, …).
"""

from __future__ import annotations

from enum import StrEnum


class WebhookErrorCode(StrEnum):
    DELIVERY_IN_FLIGHT = "delivery_in_flight"
    NOT_UPDATABLE = "not_updatable"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
