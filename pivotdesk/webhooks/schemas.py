"""Input and output schemas of the webhooks API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Schema

from pivotdesk.common.delivery_errors import describe


class EndpointIn(Schema):
    url: str = Field(..., max_length=2000, examples=["https://example.com/pivotdesk/webhook"])
    description: str = Field("", max_length=255)
    event_types: list[str] = Field(default_factory=list, description="Event names; empty means every event.")
    active: bool = True


class EndpointPatch(Schema):
    url: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=255)
    event_types: list[str] | None = None
    active: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    secret_set: bool = Field(..., description="Whether a signing secret is set (it always is).")
    secret_hint: str = Field(
        ...,
        description="The secret's prefix and last 4 characters, e.g. `whsec_…abcd`. The secret itself is shown only "
        "in the answers of create and rotate-secret.",
    )
    secret_rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = Field(
        ..., description="Until then deliveries carry a second `v1=` signature made with the replaced secret."
    )
    active: bool
    consecutive_failures: int
    disabled_at: dt.datetime | None
    disabled_reason: str = Field(..., description="Why the endpoint was turned off, in the request's language.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_disabled_reason(obj: Any) -> str:
        return describe(obj.disabled_reason)


class EndpointWithSecretOut(EndpointOut):
    """The answer of create and rotate-secret: the only two that carry the secret in clear."""

    secret: str = Field(
        ...,
        description="Signs every delivery; configure your receiver with it now: it is never shown again.",
    )

    @staticmethod
    def resolve_secret(obj: Any) -> str:
        return str(getattr(obj, "issued_secret", "") or "")


class AttemptOut(Schema):
    number: int
    succeeded: bool
    status_code: int | None
    error: str = Field(..., description="Why the attempt failed, in the request's language.")
    duration_ms: int
    created_at: dt.datetime

    @staticmethod
    def resolve_error(obj: Any) -> str:
        return describe(obj.error)


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_name: str
    event_id: uuid.UUID
    status: str = Field(..., description="queued, sending, sent or failed (the outbox's one vocabulary).")
    attempts: int
    replays: int
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str = Field(..., description="Why the last attempt failed, in the request's language.")
    response_body_excerpt: str
    duration_ms: int | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    failed_at: dt.datetime | None

    @staticmethod
    def resolve_last_error(obj: Any) -> str:
        return describe(obj.last_error)


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: Any) -> list[Any]:
        return list(obj.attempt_log.all())


class EndpointPage(Schema):
    items: list[EndpointOut]
    count: int


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None
