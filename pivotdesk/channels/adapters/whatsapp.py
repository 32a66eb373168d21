"""WhatsApp Cloud API: the webhook (GET hub.challenge, POST signed with X-Hub-Signature-256), batches of messages
(text, image, audio/voice, video, document, sticker, location, contacts, buttons) with media fetched through the
Graph API, delivery statuses applied to our outbound replies, and replies through /{phone_number_id}/messages.

The wa_id is an E.164 number without '+': the sender resolves by phone first (the same person on SMS is the same
contact), then the whatsapp identity is attached, so replies go back by wa_id.

Account config: phone_number_id, graph_base (default https://graph.facebook.com), api_version (default v21.0).
Account secrets: access_token, app_secret, verify_token.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.platform_api import (
    PLACEHOLDER,
    MediaError,
    base_url,
    call,
    config_str,
    download,
    ensure_accepted,
    fetch_media,
    filename_for,
    json_of,
    reply_text,
    require_account,
    secret_str,
    store_rejected,
)
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound, PayloadError
from pivotdesk.channels.domain.whatsapp_crypto import hub_signature_matches
from pivotdesk.channels.models import OutboundMessage
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.errors import DomainError
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.domain.identity import IdentityError, normalize_phone
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message

if TYPE_CHECKING:
    from pivotdesk.accounts.models import Workspace
    from pivotdesk.channels.models import ChannelAccount, InboundPayload

log = logging.getLogger(__name__)

GRAPH_BASE = "https://graph.facebook.com"
API_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_KINDS = {"image": "image", "audio": "voice", "voice": "voice", "video": "video", "document": "file"}
# Graph error codes worth retrying (throttling); other 4xx answers will not get better by waiting.
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: object, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _graph(account: ChannelAccount) -> str:
    return f"{base_url(account, 'graph_base', GRAPH_BASE)}/{config_str(account, 'api_version', API_VERSION)}"


def _auth(account: ChannelAccount) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret_str(account, 'access_token')}"}


def fetch_whatsapp_media(account: ChannelAccount, *, media_id: str, kind: str, name: str = "") -> InboundAttachment:
    """GET /{version}/{media_id} → a short-lived URL → the file, both with the bearer token."""
    response = call("GET", f"{_graph(account)}/{media_id}", headers=_auth(account), what="media URL")
    data = json_of(response)
    url = _str(data.get("url"), 2000)
    if response.status_code != 200 or not url:
        raise MediaError(f"media URL: HTTP {response.status_code} {_dict(data.get('error')).get('message', '')}")
    content, content_type, _ = download(url, headers=_auth(account))
    mime = _str(data.get("mime_type")).split(";")[0].strip()
    if mime and content_type in ("application/octet-stream", ""):
        content_type = mime
    return InboundAttachment(filename_for(kind, media_id, content_type, name), content_type, content)


# --- inbound ---------------------------------------------------------------------------------------------------


def _values(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `value` of every messages change of every entry."""
    return [
        _dict(change.get("value"))
        for entry in _list(body.get("entry"))
        for change in _list(entry.get("changes"))
        if change.get("field", "messages") == "messages"
    ]


def message_ids(body: dict[str, Any]) -> list[str]:
    return [_str(m.get("id")) for v in _values(body) for m in _list(v.get("messages")) if _str(m.get("id"))]


def _text_of(msg: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """The readable text of a message and what to keep in metadata."""
    meta: dict[str, Any] = {}
    if kind == "text":
        return _str(_dict(msg.get("text")).get("body"), 100_000), meta
    if kind in MEDIA_KINDS or kind == "sticker":
        media = _dict(msg.get(kind))
        caption = _str(media.get("caption"), 10_000)
        if kind == "document":
            return caption or f"[file: {_str(media.get('filename')) or 'document'}]", meta
        return caption or PLACEHOLDER.get(MEDIA_KINDS.get(kind, kind), "[file]"), meta
    if kind == "location":
        loc = _dict(msg.get("location"))
        meta["location"] = {k: loc.get(k) for k in ("latitude", "longitude", "name", "address") if k in loc}
        label = " ".join(p for p in (_str(loc.get("name")), _str(loc.get("address"))) if p)
        return f"{PLACEHOLDER['location']} {label} ({loc.get('latitude')}, {loc.get('longitude')})".replace(
            "  ", " "
        ), meta
    if kind == "contacts":
        names = [_str(_dict(c.get("name")).get("formatted_name")) for c in _list(msg.get("contacts"))]
        phones = [_str(p.get("phone")) for c in _list(msg.get("contacts")) for p in _list(c.get("phones"))]
        return "[contact] " + " ".join(p for p in names + phones if p), meta
    if kind == "button":
        return _str(_dict(msg.get("button")).get("text"), 1000), meta
    if kind == "interactive":
        inter = _dict(msg.get("interactive"))
        reply = _dict(inter.get("button_reply")) or _dict(inter.get("list_reply"))
        meta["interactive_id"] = _str(reply.get("id"))
        return _str(reply.get("title"), 1000), meta
    meta["unsupported"] = kind[:40]
    return f"[{kind[:40] or 'unsupported'} message]", meta


def _normalize_message(
    msg: dict[str, Any], names: dict[str, str], value: dict[str, Any], account: ChannelAccount | None
) -> NormalizedInbound | None:
    kind = _str(msg.get("type"), 40)
    wa_id = _str(msg.get("from"), 64)
    wamid = _str(msg.get("id"))
    if kind == "reaction":  # a reaction to one of our messages is not a customer message
        return None
    if not wa_id or not wamid:
        raise PayloadError("A message without 'from' or 'id'.")
    text, metadata = _text_of(msg, kind)
    metadata["whatsapp_type"] = kind
    phone_number_id = _str(_dict(value.get("metadata")).get("phone_number_id"))
    if phone_number_id:
        metadata["phone_number_id"] = phone_number_id
    context = _dict(msg.get("context"))
    if context.get("id"):
        metadata["in_reply_to"] = _str(context.get("id"))
    attachments: list[InboundAttachment] = []
    if kind in MEDIA_KINDS:
        media = _dict(msg.get(kind))
        media_id = _str(media.get("id"))
        att_kind = MEDIA_KINDS[kind]
        if not media_id:
            metadata.setdefault("media_errors", []).append(f"{att_kind}: no media id")
        elif account is None:
            metadata.setdefault("media_errors", []).append(f"{att_kind}: no channel account to download with")
        else:
            name = _str(media.get("filename"), 200)
            fetch_media(
                attachments,
                metadata,
                label=f"{att_kind} {media_id}",
                fetch=lambda: fetch_whatsapp_media(account, media_id=media_id, kind=att_kind, name=name),
            )
    timestamp = _str(msg.get("timestamp"), 20)
    sent_at = (
        dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
        if timestamp.isdigit() and 0 < int(timestamp) < 4_102_444_800
        else None
    )
    return NormalizedInbound(
        channel="whatsapp",
        identity_kind="whatsapp",
        identity_value=wa_id,
        sender_name=names.get(wa_id, "")[:200],
        text=text or "[empty message]",
        attachments=attachments,
        external_id=wamid,
        sent_at=sent_at,
        conversation_key=wa_id,
        metadata=metadata,
        needs_transcription=kind in ("audio", "voice", "video"),
    )


def link_phone_identity(*, workspace: Workspace, wa_id: str, name: str = "") -> None:
    """Resolve a new WhatsApp sender by phone first and attach the whatsapp identity to that contact, so a customer
    known from SMS (or entered by an agent) is the same contact. Never fails the delivery."""
    if ChannelIdentity.objects.filter(workspace=workspace, kind="whatsapp", value=wa_id).exists():
        return
    try:
        phone = normalize_phone(f"+{wa_id.lstrip('+')}")
    except IdentityError:
        return
    try:
        with transaction.atomic():
            contact = customer_services.contact_resolve(
                actor=Actor.system("channel"), workspace=workspace, kind="phone", value=phone, name=name
            )
            customer_services.identity_attach(
                actor=Actor.system("channel"), contact=contact, kind="whatsapp", value=wa_id
            )
    except DomainError as exc:  # taken by another contact meanwhile: resolution by wa_id still works
        log.info("whatsapp %s not linked by phone: %s", wa_id, exc)


def apply_statuses(workspace: Workspace, statuses: list[dict[str, Any]]) -> None:
    """sent / delivered / read / failed for one of our replies (matched by wamid) → its delivery status."""
    for status in statuses:
        wamid, state = _str(status.get("id")), _str(status.get("status"), 20)
        if not wamid or state not in ("sent", "delivered", "read", "failed"):
            continue
        outbound = OutboundMessage.objects.filter(workspace=workspace, channel="whatsapp", provider_id=wamid).first()
        if outbound is None:
            continue
        message = Message.objects.filter(pk=outbound.message_id).first()
        if message is None:
            continue
        if state == "failed":
            errors = "; ".join(
                f"{e.get('code', '')} {_str(e.get('title'))} {_str(_dict(e.get('error_data')).get('details'))}".strip()
                for e in _list(status.get("errors"))
            )
            ticket_services.message_set_delivery_status(
                message=message,
                actor=Actor.system("whatsapp"),
                status="failed",
                error=f"WhatsApp: not delivered. {errors}".strip(),
            )
        elif message.delivery_status != "sent":
            ticket_services.message_set_delivery_status(message=message, actor=Actor.system("whatsapp"), status="sent")


def normalize_whatsapp(
    body: dict[str, Any], account: ChannelAccount | None, workspace: Workspace | None = None
) -> list[NormalizedInbound]:
    """A webhook batch → every customer message in it; statuses are applied to our replies."""
    messages: list[NormalizedInbound] = []
    for value in _values(body):
        names = {
            _str(c.get("wa_id"), 64): _str(_dict(c.get("profile")).get("name"), 200)
            for c in _list(value.get("contacts"))
        }
        if workspace is not None:
            apply_statuses(workspace, _list(value.get("statuses")))
        for msg in _list(value.get("messages")):
            inbound = _normalize_message(msg, names, value, account)
            if inbound is not None:
                messages.append(inbound)
    if workspace is not None:
        for inbound in messages:
            link_phone_identity(workspace=workspace, wa_id=inbound.identity_value, name=inbound.sender_name)
    return messages


@register_parser("whatsapp")
def parse_whatsapp_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    ensure_accepted(payload)
    try:
        body = loads_guarded(bytes(payload.raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"Not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise PayloadError("A webhook body is a JSON object.")
    if body.get("object", "whatsapp_business_account") != "whatsapp_business_account":
        raise PayloadError(f"Not a WhatsApp Business Account notification: object={str(body.get('object'))[:40]}")
    return normalize_whatsapp(body, payload.account, payload.workspace)


@register_webhook("whatsapp")
def whatsapp_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """GET: subscription check (hub.challenge). POST: a signed notification, stored and processed after commit."""
    if request.method == "GET":
        q = request.GET
        expected = secret_str(account, "verify_token")
        if q.get("hub.mode") == "subscribe" and expected and q.get("hub.verify_token") == expected:
            return HttpResponse(q.get("hub.challenge", ""), content_type="text/plain")
        return json_error(403, "bad_verify_token", "Wrong hub.mode or hub.verify_token.")
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "GET (verification) or POST (notifications).")
    if not hub_signature_matches(
        secret_str(account, "app_secret"), request.body, request.headers.get(SIGNATURE_HEADER, "")
    ):
        store_rejected(request, account, reason="bad signature", extra_headers=(SIGNATURE_HEADER,))
        return json_error(401, "bad_signature", "Missing or wrong X-Hub-Signature-256.")
    try:
        body = loads_guarded(request.body)
        ids = message_ids(body) if isinstance(body, dict) else []
    except (ValueError, UnicodeDecodeError):
        ids = []
    store_and_queue(request, account, dedupe_key=f"whatsapp:{ids[0]}" if len(ids) == 1 else "")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


# --- outbound --------------------------------------------------------------------------------------------------


@register_sender("whatsapp")
def send_whatsapp(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """A text message to the wa_id (inside the 24-hour customer service window); returns the wamid."""
    account = require_account(account, "whatsapp")
    phone_number_id = config_str(account, "phone_number_id")
    if not phone_number_id:
        raise SendError("The WhatsApp channel has no phone_number_id configured.", permanent=True)
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": outbound.recipient,
        "type": "text",
        "text": {"preview_url": False, "body": reply_text(outbound)[:4096]},
    }
    response = call(
        "POST", f"{_graph(account)}/{phone_number_id}/messages", json_body=body, headers=_auth(account), what="messages"
    )
    data = json_of(response)
    wamid = next((_str(m.get("id")) for m in _list(data.get("messages")) if m.get("id")), "")
    if response.status_code == 200 and wamid:
        return wamid
    error = _dict(data.get("error"))
    code = error.get("code") if isinstance(error.get("code"), int) else 0
    reason = f"messages: HTTP {response.status_code} code {code} {_str(error.get('message'), 300)}".strip()
    retryable = response.status_code in (200, 429) or response.status_code >= 500 or code in RATE_LIMIT_CODES
    raise SendError(reason, permanent=not retryable)
