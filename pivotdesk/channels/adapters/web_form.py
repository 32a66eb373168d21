"""The web_form channel adapter: a stored form submission (JSON) → one NormalizedInbound.

The public form (channels/public_views.py) stores every accepted submission as this JSON document before parsing::

    {"id": "…submission id…", "name": "…", "email": "…", "phone": "…", "subject": "…", "description": "…",
     "fields": {"<custom field key>": value, …}, "field_labels": {"<key>": "<label>"},
     "attachments": [{"filename": "…", "content_type": "…", "content_base64": "…"}],
     "language": "zh-hans", "page_url": "…"}

Replies to web-form tickets go out by email (outbox REPLY_CHANNEL), so there is no web_form sender.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from pivotdesk.channels.adapters import register_parser
from pivotdesk.channels.domain import payload_shape
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound, PayloadError
from pivotdesk.channels.domain.payload_shape import as_list, as_text, load_json_object
from pivotdesk.customers.domain.identity import IdentityError, normalize_email

if TYPE_CHECKING:
    from pivotdesk.channels.models import InboundPayload

MAX_ATTACHMENTS = 20


def as_object(value: Any, what: str) -> dict[str, Any]:
    """An object, with a missing value read as empty (form sections are optional)."""
    return {} if value is None else payload_shape.as_object(value, what)


def _field_lines(fields: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in fields.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if isinstance(value, bool):
            shown = "✓" if value else "✗"
        lines.append(f"{labels.get(key) or key}: {shown}")
    return lines


@register_parser("web_form")
def parse_web_form(payload: InboundPayload) -> list[NormalizedInbound]:
    """A submission document → a new ticket's first message from the submitter's email identity."""
    data = load_json_object(bytes(payload.raw))
    try:
        email = normalize_email(as_text(data.get("email"), "email", required=True))
    except IdentityError as exc:
        raise PayloadError(str(exc)) from exc
    description = as_text(data.get("description"), "description").strip()
    subject = as_text(data.get("subject"), "subject").strip()[:250]
    fields = as_object(data.get("fields"), "fields")
    labels = as_object(data.get("field_labels"), "field_labels")
    attachments: list[InboundAttachment] = []
    for index, raw_item in enumerate(as_list(data.get("attachments"), "attachments")[:MAX_ATTACHMENTS]):
        item = as_object(raw_item, "attachments[]")
        try:
            content = base64.b64decode(as_text(item.get("content_base64"), "content_base64"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PayloadError(f"attachment {index + 1}: content_base64 is not base64 ({exc})") from exc
        attachments.append(
            InboundAttachment(
                filename=as_text(item.get("filename"), "filename")[:200] or f"attachment-{index + 1}",
                content_type=as_text(item.get("content_type"), "content_type") or "application/octet-stream",
                content=content,
            )
        )
    lines = _field_lines(fields, labels)
    text = "\n\n".join(part for part in (description, "\n".join(lines)) if part)
    if not (text or attachments):
        raise PayloadError("The submission has no description, fields or attachments.")
    if not subject:
        # Facts, not an English "Web form": the first line, else the first field, else the first file's name (the
        # queue shows the channel's label in the reader's language).
        first_line = description.splitlines()[0] if description else ""
        subject = (first_line or (lines[0] if lines else "") or (attachments[0].filename if attachments else ""))[:80]
    submission_id = as_text(data.get("id"), "id")
    phone = as_text(data.get("phone"), "phone")
    return [
        NormalizedInbound(
            channel="web_form",
            identity_kind="email",
            identity_value=email,
            sender_name=as_text(data.get("name"), "name").strip()[:200],
            subject=subject,
            text=text or "(attachments only)",
            attachments=attachments,
            external_id=f"web_form:{payload.account_id or 0}:{submission_id}" if submission_id else "",
            metadata={
                "web_form": {
                    "fields": fields,
                    "phone": phone,
                    "language": as_text(data.get("language"), "language"),
                    "page_url": as_text(data.get("page_url"), "page_url")[:500],
                }
            },
        )
    ]
