"""The normalised inbound message every channel adapter produces (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class NormalizedInbound:
    """One message from a customer, whatever the channel: who, through which identity, what, and threading hints."""

    channel: str  # a pivotdesk.common.choices.Channel value
    identity_kind: str  # a pivotdesk.common.choices.IdentityKind value
    identity_value: str
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    full_text: str = ""  # the unstripped original (mail with quoted history), kept one click away
    attachments: list[InboundAttachment] = field(default_factory=list)
    external_id: str = ""  # Message-ID or the platform's message id (idempotency)
    sent_at: dt.datetime | None = None
    ticket_number: int | None = None  # [#10234] token
    reply_to_ids: list[str] = field(default_factory=list)  # Message-IDs this answers
    conversation_key: str = ""  # a platform conversation/chat id
    followers: list[str] = field(default_factory=list)  # CC'd addresses
    noise: str | None = None  # bounce | auto_reply | bulk | complaint | read_receipt
    metadata: dict[str, Any] = field(default_factory=dict)
    needs_transcription: bool = False  # voice/video attachment queued for the AI pipeline
    left_out: int = 0  # parts or files over the intake limits: not stored, still in the raw payload
    left_out_names: list[str] = field(default_factory=list)  # the names of left-out files, when known

    @property
    def dedupe_key(self) -> str:
        return f"{self.channel}:{self.external_id}" if self.external_id else ""


class PayloadError(ValueError):
    """The payload cannot be read as this channel's format; the reason is stored on the payload row."""
