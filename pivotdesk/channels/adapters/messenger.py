"""Facebook Messenger (Messenger Platform webhooks and the Send API).

Account settings — config: `page_id` (optional), `graph_base` (default https://graph.facebook.com), `graph_version`
(default v21.0); secrets: `app_secret` (verifies X-Hub-Signature-256), `verify_token` (the subscription check),
`page_access_token` (sending). Webhook URL: /channels/in/messenger/<key>/ for both GET (verification) and POST.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.transport import MediaCollector, send_request
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.domain.payload_shape import as_list, as_object, as_text, load_json_object
from pivotdesk.channels.domain.signatures import verify_sha256_header
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.services.rejections import signature_rejection
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.json_guard import loads_guarded

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

SIGNATURE_HEADER = "X-Hub-Signature-256"
GRAPH_BASE = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
TEXT_LIMIT = 2000  # characters per Send API text message
# Graph error codes that mean "slow down / try later" even when the HTTP status is 400.
_TRANSIENT_GRAPH_CODES = {1, 2, 4, 17, 32, 613}


def _secret(account: ChannelAccount | None, name: str) -> str:
    return str(account.secrets.get(name, "")) if account is not None else ""


@register_webhook("messenger")
def messenger_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """GET answers Meta's subscription check; POST verifies the signature, stores the body and answers 200."""
    if request.method == "GET":
        token = _secret(account, "verify_token")
        mode, given = request.GET.get("hub.mode"), request.GET.get("hub.verify_token", "")
        if mode == "subscribe" and token and given == token:
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return json_error(403, "verification_failed", "hub.verify_token does not match.")
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "Meta posts webhook events.")
    rejected = signature_rejection(
        actor=Actor.system("channel"),
        request=request,
        account=account,
        header=SIGNATURE_HEADER,
        verify=lambda value: verify_sha256_header(_secret(account, "app_secret"), request.body, value),
        key_label="app secret",
    )
    if rejected is not None:
        return rejected
    store_and_queue(request, account, dedupe_key=_single_mid(request.body), extra_headers=(SIGNATURE_HEADER,))
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _single_mid(body: bytes) -> str:
    """messenger:<mid> when the delivery holds exactly one message (the usual case), for the raw store's index."""
    try:
        data = loads_guarded(body)
        events = [e for entry in data["entry"] for e in entry.get("messaging", [])]
        mid = events[0]["message"]["mid"] if len(events) == 1 else ""
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return ""
    return f"messenger:{mid}" if isinstance(mid, str) and mid else ""


@register_parser("messenger")
def parse_messenger_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """A webhook delivery (object "page", entry[].messaging[]) → the customer messages in it. Echoes of our own
    sends, delivery and read receipts, reactions and other events are skipped."""
    data = load_json_object(bytes(payload.raw))
    if data.get("object") != "page":
        raise PayloadError(f"object is {data.get('object')!r}, not 'page'.")
    out = []
    for item in as_list(data.get("entry"), "entry"):
        entry = as_object(item, "entry[]")
        for event in as_list(entry.get("messaging"), "entry[].messaging"):
            inbound = _event(as_object(event, "messaging[]"), as_text(entry.get("id"), "entry[].id"))
            if inbound is not None:
                out.append(inbound)
    return out


def _event(event: dict[str, Any], page_id: str) -> NormalizedInbound | None:
    sender = as_object(event.get("sender", {}), "sender")
    psid = sender.get("id")
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None
        text, mid = message.get("text", ""), message.get("mid", "")
        attachments = as_list(message.get("attachments"), "message.attachments")
    elif isinstance(postback, dict):  # a tapped button: its title is what the customer "said"
        text, mid, attachments = postback.get("title", ""), postback.get("mid", ""), []
    else:
        return None  # delivery, read, reaction, optin, referral…
    if not isinstance(psid, (str, int)) or not str(psid).strip():
        raise PayloadError("sender.id is missing.")
    if not isinstance(text, str) or not isinstance(mid, str):
        raise PayloadError("message.text and message.mid must be strings.")
    media = MediaCollector()
    extra: list[str] = []
    for index, raw_item in enumerate(attachments):
        item = as_object(raw_item, "message.attachments[]")
        kind = as_text(item.get("type"), "attachment type") or "file"
        body = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = body.get("url") if isinstance(body, dict) else None
        if kind in ("image", "audio", "video", "file") and isinstance(url, str):
            media.fetch(url, kind=kind, stem=f"messenger-{kind}-{index + 1}")
        elif kind == "location" and isinstance(body, dict):
            extra.append(f"[location: {json.dumps(body.get('coordinates', {}), ensure_ascii=False)}]")
        else:
            extra.append(f"[{kind}]")
    text = "\n".join(t for t in [text, *extra] if t)
    timestamp = event.get("timestamp")
    return NormalizedInbound(
        channel="messenger",
        identity_kind="messenger",
        identity_value=str(psid).strip(),
        text=media.text_with(text),
        attachments=media.attachments,
        external_id=mid or (f"{psid}:{timestamp}" if timestamp else ""),
        conversation_key=f"{page_id}:{psid}",
        metadata={"messenger": {"page_id": page_id, "timestamp": timestamp}, **media.metadata()},
        needs_transcription=media.needs_transcription,
    )


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@register_sender("messenger")
def send_messenger(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """POST {graph_base}/{version}/me/messages (messaging_type RESPONSE); long replies go as several messages."""
    if account is None:
        raise SendError("No Messenger channel is configured.", permanent=True)
    token = _secret(account, "page_access_token")
    if not token:
        raise SendError("The Messenger channel has no page access token.", permanent=True)
    base = str(account.config.get("graph_base") or GRAPH_BASE).rstrip("/")
    version = str(account.config.get("graph_version") or GRAPH_VERSION).strip("/")
    text = outbound.message.body_text.strip()
    if not text:
        raise SendError("Messenger replies need text (attachments are not sent).", permanent=True)
    ids = []
    for part in _chunks(text, TEXT_LIMIT):
        body = {"recipient": {"id": outbound.recipient}, "messaging_type": "RESPONSE", "message": {"text": part}}
        response = send_request(
            "POST",
            f"{base}/{version}/me/messages",
            json_body=body,
            params={"access_token": token},
            transient=_throttled,
        )
        ids.append(str(_json(response.content).get("message_id", "")))
    return ids[0]


def _json(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _throttled(response: httpx.Response) -> bool:
    """Graph answers throttling with 400 + an error code; those are retried rather than given up."""
    error = _json(response.content).get("error")
    return isinstance(error, dict) and error.get("code") in _TRANSIENT_GRAPH_CODES
