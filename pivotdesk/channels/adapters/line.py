"""LINE (Messaging API webhooks and push messages).

Account settings — config: `api_base` (default https://api.line.me), `data_api_base` (default
https://api-data.line.me); secrets: `channel_secret` (verifies X-Line-Signature), `channel_access_token` (content
downloads and sending). Webhook URL: /channels/in/line/<key>/.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.transport import MediaCollector, send_request
from pivotdesk.channels.domain.inbound import NormalizedInbound
from pivotdesk.channels.domain.payload_shape import as_list, as_object, as_text, load_json_object
from pivotdesk.channels.domain.signatures import verify_line_signature
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.services.rejections import signature_rejection
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.json_guard import loads_guarded

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

SIGNATURE_HEADER = "X-Line-Signature"
API_BASE = "https://api.line.me"
DATA_API_BASE = "https://api-data.line.me"
TEXT_LIMIT = 5000  # characters per text message
MESSAGES_PER_PUSH = 5
MEDIA_KINDS = {"image", "audio", "video", "file"}
# Retry keys are UUIDs derived from the outbound row, so a retried push is recognised by LINE (409) and not resent.
_RETRY_NAMESPACE = uuid.UUID("0f5c3e8e-6f1c-4d8e-9a57-5d1c2b7a9e11")


def _secret(account: ChannelAccount | None, name: str) -> str:
    return str(account.secrets.get(name, "")) if account is not None else ""


@register_webhook("line")
def line_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """Verify X-Line-Signature, store the body, answer 200 (LINE's console "Verify" posts an empty events list)."""
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "LINE posts webhook events.")
    rejected = signature_rejection(
        actor=Actor.system("channel"),
        request=request,
        account=account,
        header=SIGNATURE_HEADER,
        verify=lambda value: verify_line_signature(_secret(account, "channel_secret"), request.body, value),
        key_label="channel secret",
    )
    if rejected is not None:
        return rejected
    store_and_queue(request, account, dedupe_key=_single_message_key(request.body), extra_headers=(SIGNATURE_HEADER,))
    return JsonResponse({})


def _single_message_key(body: bytes) -> str:
    try:
        events = loads_guarded(body)["events"]
        message_id = events[0]["message"]["id"] if len(events) == 1 else ""
    except (ValueError, TypeError, KeyError, IndexError):
        return ""
    return f"line:{message_id}" if isinstance(message_id, str) and message_id else ""


@register_parser("line")
def parse_line_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """A webhook delivery ({"destination", "events": [...]}) → its customer messages. Follow/unfollow, postbacks
    without text, standby-mode events and other event types are skipped."""
    data = load_json_object(bytes(payload.raw))
    account = payload.account
    out = []
    for raw_event in as_list(data.get("events"), "events"):
        event = as_object(raw_event, "events[]")
        if event.get("type") != "message" or event.get("mode", "active") != "active":
            continue
        out.append(_message(event, account))
    return out


def _message(event: dict[str, Any], account: ChannelAccount | None) -> NormalizedInbound:
    source = as_object(event.get("source", {}), "source")
    user_id = as_text(source.get("userId"), "source.userId", required=True)
    message = as_object(event.get("message"), "message")
    message_id = as_text(message.get("id"), "message.id", required=True)
    kind = as_text(message.get("type"), "message.type", required=True)
    media = MediaCollector()
    text = ""
    if kind == "text":
        text = as_text(message.get("text"), "message.text")
    elif kind in MEDIA_KINDS:
        provider = message.get("contentProvider") if isinstance(message.get("contentProvider"), dict) else {}
        stem = f"line-{kind}-{message_id}"
        filename = as_text(message.get("fileName"), "message.fileName")
        if isinstance(provider, dict) and provider.get("type") == "external":
            media.fetch(as_text(provider.get("originalContentUrl"), "originalContentUrl"), kind=kind, stem=stem)
        else:
            base = str((account.config if account else {}).get("data_api_base") or DATA_API_BASE).rstrip("/")
            token = _secret(account, "channel_access_token")
            media.fetch(
                f"{base}/v2/bot/message/{message_id}/content",
                kind=kind,
                stem=stem,
                filename=filename,
                headers={"Authorization": f"Bearer {token}"},
            )
    elif kind == "sticker":
        text = "[sticker]"
    elif kind == "location":
        parts = [as_text(message.get(k), k) for k in ("title", "address")]
        text = "[location] " + " ".join(p for p in parts if p)
    else:
        text = f"[{kind}]"
    conversation = source.get("groupId") or source.get("roomId") or user_id
    delivery = event.get("deliveryContext") if isinstance(event.get("deliveryContext"), dict) else {}
    return NormalizedInbound(
        channel="line",
        identity_kind="line",
        identity_value=user_id,
        text=media.text_with(text),
        attachments=media.attachments,
        external_id=message_id,
        conversation_key=str(conversation),
        metadata={
            "line": {
                "webhook_event_id": as_text(event.get("webhookEventId"), "webhookEventId"),
                "source_type": as_text(source.get("type"), "source.type"),
                "redelivery": bool(isinstance(delivery, dict) and delivery.get("isRedelivery")),
                "reply_token": as_text(event.get("replyToken"), "replyToken"),
            },
            **media.metadata(),
        },
        needs_transcription=media.needs_transcription,
    )


@register_sender("line")
def send_line(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """POST {api_base}/v2/bot/message/push with up to five text messages; X-Line-Retry-Key makes retries safe."""
    if account is None:
        raise SendError("No LINE channel is configured.", permanent=True)
    token = _secret(account, "channel_access_token")
    if not token:
        raise SendError("The LINE channel has no channel access token.", permanent=True)
    text = outbound.message.body_text.strip()
    if not text:
        raise SendError("LINE replies need text (attachments are not sent).", permanent=True)
    parts = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)][:MESSAGES_PER_PUSH]
    base = str(account.config.get("api_base") or API_BASE).rstrip("/")
    retry_key = str(uuid.uuid5(_RETRY_NAMESPACE, f"{outbound.workspace_id}:{outbound.pk}"))
    response = send_request(
        "POST",
        f"{base}/v2/bot/message/push",
        json_body={"to": outbound.recipient, "messages": [{"type": "text", "text": p} for p in parts]},
        headers={"Authorization": f"Bearer {token}", "X-Line-Retry-Key": retry_key},
        accept=frozenset({409}),
    )
    if response.status_code == 409:  # this retry key was accepted before: the push already went out
        return str(response.headers.get("x-line-accepted-request-id", "")) or f"retry-key:{retry_key}"
    request_id = str(response.headers.get("x-line-request-id", ""))
    try:
        sent = json.loads(response.content).get("sentMessages") or [{}]
        return str(sent[0].get("id", "")) or request_id
    except (ValueError, AttributeError, IndexError, TypeError):
        return request_id
