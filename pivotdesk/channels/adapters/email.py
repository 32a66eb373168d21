"""The email adapter's inbound side: raw RFC 822 → NormalizedInbound (outbound SMTP lives in email_send)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from pivotdesk.channels.adapters import register_parser
from pivotdesk.channels.domain.email_threading import normalize_subject, ticket_number_in
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound
from pivotdesk.channels.domain.mime import MimeLimits, parse_email
from pivotdesk.channels.domain.noise import classify
from pivotdesk.channels.domain.quotes import reply_from_html, strip_quoted
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.html import html_to_text

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload

UNKNOWN_SENDER = "unknown-sender"


def mime_limits() -> MimeLimits:
    """The intake limits of the settings (issue 11, finding 4): parts walked, nesting, files kept and their bytes."""
    return MimeLimits(
        max_parts=settings.PIVOTDESK_INBOUND_MAX_PARTS,
        max_depth=settings.PIVOTDESK_INBOUND_MAX_DEPTH,
        max_attachments=settings.PIVOTDESK_INBOUND_MAX_ATTACHMENTS,
        max_total_bytes=settings.PIVOTDESK_INBOUND_MAX_ATTACHMENT_BYTES,
        max_file_bytes=settings.PIVOTDESK_ATTACHMENT_MAX_BYTES,
    )


def normalize_email(raw: bytes) -> NormalizedInbound:
    """Parse a mail into the normalised form (reply text stripped of history; the full text kept). Parts over the
    intake limits are left out and counted (the raw mail keeps them)."""
    mail = parse_email(raw, mime_limits())
    noise = classify(mail)
    sender = mail.reply_to if (mail.reply_to and noise is None and not mail.sender) else mail.sender
    metadata: dict[str, object] = {"to": [a.email for a in mail.to], "defects": mail.defects[:20]}
    identity_kind, identity_value, sender_name = "email", sender.email if sender else "", sender.name if sender else ""
    if sender is None and noise is None:
        # Nothing is dropped: a mail without any sender address opens a ticket from a placeholder contact, tagged
        # so an agent can find it (replies to it fail visibly: there is no address to send to).
        identity_kind, identity_value, sender_name = "external", UNKNOWN_SENDER, "Unknown sender (no From address)"
        metadata["tags"] = ["unknown_sender"]
    full_text = mail.text or (html_to_text(mail.html) if mail.html else "")
    # The HTML's quote containers say where history starts in any language; the text rules are the fallback.
    reply = (reply_from_html(mail.html) if mail.html else None) or (strip_quoted(full_text) if full_text else "")
    return NormalizedInbound(
        channel="email",
        identity_kind=identity_kind,
        identity_value=identity_value,
        sender_name=sender_name,
        subject=mail.subject,
        text=reply,
        html=mail.html,
        full_text=full_text,
        attachments=[
            InboundAttachment(a.filename, a.content_type, a.content, a.content_id, a.inline) for a in mail.attachments
        ],
        external_id=mail.message_id,
        sent_at=mail.date,
        ticket_number=ticket_number_in(mail.subject),
        reply_to_ids=mail.thread_ids,
        conversation_key=normalize_subject(mail.subject),
        followers=[a.email for a in mail.cc] + [a.email for a in mail.to[1:]],
        noise=noise,
        metadata=metadata,
        needs_transcription=any(a.content_type.startswith(("audio/", "video/")) for a in mail.attachments),
        left_out=mail.left_out,
        left_out_names=mail.left_out_names,
    )


@register_parser("email")
def parse_email_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    return [normalize_email(bytes(payload.raw))]


@register_webhook("email")
def email_inbound_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """POST a raw RFC 822 message (as MTAs and mail services do): stored, then processed in the background."""
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "POST the raw message (message/rfc822).")
    if not request.body:
        return json_error(400, "empty_body", "The body must be the raw RFC 822 message.")
    payload = store_and_queue(request, account)
    return JsonResponse({"status": "accepted", "payload_id": payload.pk}, status=202)
