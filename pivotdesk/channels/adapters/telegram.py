"""Telegram Bot API: the webhook (X-Telegram-Bot-Api-Secret-Token), Update parsing (text, photo, voice, video,
audio, document, caption, location, contact; edits as new messages) with files fetched through getFile, and replies
through sendMessage honouring 429 retry_after.

Account config: api_base (default https://api.telegram.org), file_base (default: api_base).
Account secrets: bot_token, secret_token (the one given to setWebhook).
"""

from __future__ import annotations

import datetime as dt
import hmac
import time
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.platform_api import (
    PLACEHOLDER,
    MediaError,
    base_url,
    call,
    download,
    ensure_accepted,
    fetch_media,
    filename_for,
    json_of,
    reply_context,
    reply_text,
    require_account,
    secret_str,
    store_rejected,
)
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound, PayloadError
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.json_guard import loads_guarded

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
MAX_TEXT = 4096
INLINE_RETRY_AFTER = 3  # wait in-process for a short 429; longer ones go back to the outbox with the delay


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return ""
    return str(value).strip()[:64]


def _message_of(update: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for key in MESSAGE_KEYS:
        if isinstance(update.get(key), dict):
            return key, update[key]
    return None


def external_id_of(update: dict[str, Any]) -> str:
    """chat id:message id (edits add the edit date so each edit is its own message); "" when unknown."""
    found = _message_of(update)
    if found is None:
        return ""
    key, msg = found
    chat_id, message_id = _id(_dict(msg.get("chat")).get("id")), _id(msg.get("message_id"))
    if not chat_id or not message_id:
        return ""
    if key.startswith("edited"):
        return f"{chat_id}:{message_id}:edited:{_id(msg.get('edit_date'))}"
    return f"{chat_id}:{message_id}"


# --- files -----------------------------------------------------------------------------------------------------


def get_file(account: ChannelAccount, *, file_id: str, kind: str, name: str = "", mime: str = "") -> InboundAttachment:
    """getFile → file_path → {file_base}/file/bot<token>/<file_path>."""
    token = secret_str(account, "bot_token")
    api = base_url(account, "api_base", API_BASE)
    response = call("GET", f"{api}/bot{token}/getFile", params={"file_id": file_id}, what="getFile")
    data = json_of(response)
    path = str(_dict(data.get("result")).get("file_path", "") or "")
    if response.status_code != 200 or not data.get("ok") or not path:
        raise MediaError(f"getFile: HTTP {response.status_code} {data.get('description', '')}".strip())
    file_base = base_url(account, "file_base", api)
    content, content_type, _ = download(f"{file_base}/file/bot{token}/{path.lstrip('/')}")
    if mime and content_type in ("application/octet-stream", ""):
        content_type = mime
    return InboundAttachment(filename_for(kind, file_id, content_type, name), content_type, content)


# --- inbound ---------------------------------------------------------------------------------------------------


def _largest_photo(sizes: object) -> dict[str, Any]:
    photos = [p for p in sizes if isinstance(p, dict) and p.get("file_id")] if isinstance(sizes, list) else []

    def area(p: dict[str, Any]) -> int:
        try:
            return int(p.get("file_size") or 0) or int(p.get("width") or 0) * int(p.get("height") or 0)
        except (TypeError, ValueError):
            return 0

    return max(photos, key=area) if photos else {}


def normalize_update(update: dict[str, Any], account: ChannelAccount | None) -> list[NormalizedInbound]:
    """One Update → one message, or none (callback queries, member updates, polls…)."""
    found = _message_of(update)
    if found is None:
        return []
    key, msg = found
    chat = _dict(msg.get("chat"))
    chat_id = _id(chat.get("id"))
    if not chat_id:
        raise PayloadError("The message has no chat id.")
    sender = _dict(msg.get("from")) or _dict(msg.get("sender_chat"))
    user_id = _id(sender.get("id")) or chat_id
    name = " ".join(str(sender.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    name = name or str(sender.get("title") or sender.get("username") or "").strip()
    text = msg.get("text") or msg.get("caption") or ""
    text = text if isinstance(text, str) else ""
    metadata: dict[str, Any] = {"telegram_chat_type": str(chat.get("type") or "")[:20]}
    if sender.get("username"):
        metadata["telegram_username"] = str(sender["username"])[:64]
    if key.startswith("edited"):
        metadata["edited"] = True
    attachments: list[InboundAttachment] = []
    kind = ""
    media: dict[str, Any] = {}
    if msg.get("photo"):
        kind, media = "image", _largest_photo(msg["photo"])
    else:
        for field, media_kind in (
            ("voice", "voice"),
            ("video", "video"),
            ("video_note", "video"),
            ("audio", "voice"),
            ("document", "file"),
            ("sticker", "sticker"),
        ):
            if isinstance(msg.get(field), dict):
                kind, media = media_kind, msg[field]
                break
    if kind:
        metadata["telegram_media"] = kind
        raw_id = media.get("file_id")
        file_id = raw_id.strip()[:300] if isinstance(raw_id, str) else ""
        if kind == "sticker":
            text = text or f"{PLACEHOLDER['sticker']} {media.get('emoji') or ''}".strip()
        elif not file_id:
            metadata.setdefault("media_errors", []).append(f"{kind}: no file_id")
        elif account is None:
            metadata.setdefault("media_errors", []).append(f"{kind}: no channel account to download with")
        else:
            name, mime = str(media.get("file_name") or ""), str(media.get("mime_type") or "")
            fetch_media(
                attachments,
                metadata,
                label=f"{kind} {file_id}",
                fetch=lambda: get_file(account, file_id=file_id, kind=kind, name=name, mime=mime),
            )
        if kind == "file" and not text:
            text = f"[file: {media.get('file_name') or 'document'}]"
        text = text or PLACEHOLDER.get(kind, "[file]")
    elif isinstance(msg.get("location"), dict):
        loc = msg["location"]
        metadata["location"] = {"lat": loc.get("latitude"), "lon": loc.get("longitude")}
        text = f"{PLACEHOLDER['location']} ({loc.get('latitude')}, {loc.get('longitude')})"
    elif isinstance(msg.get("contact"), dict):
        shared = msg["contact"]
        text = f"[contact] {shared.get('first_name') or ''} {shared.get('phone_number') or ''}".strip()
    if not text.strip():
        text = "[unsupported message]"
        metadata["unsupported"] = [k for k in msg if k not in ("message_id", "from", "chat", "date")][:10]
    date = msg.get("date")
    sent_at = (
        dt.datetime.fromtimestamp(date, tz=dt.UTC)
        if isinstance(date, int) and not isinstance(date, bool) and 0 < date < 4_102_444_800
        else None
    )
    return [
        NormalizedInbound(
            channel="telegram",
            identity_kind="telegram",
            identity_value=user_id,
            sender_name=name[:200],
            text=text,
            attachments=attachments,
            external_id=external_id_of(update),
            sent_at=sent_at,
            conversation_key=chat_id,
            metadata=metadata,
            needs_transcription=kind in ("voice", "video"),
        )
    ]


@register_parser("telegram")
def parse_telegram_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    ensure_accepted(payload)
    try:
        update = loads_guarded(bytes(payload.raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"Not JSON: {exc}") from exc
    if not isinstance(update, dict):
        raise PayloadError("An Update is a JSON object.")
    return normalize_update(update, payload.account)


@register_webhook("telegram")
def telegram_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """POST an Update; the secret token header must match the one set with setWebhook."""
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "Telegram POSTs updates.")
    expected = secret_str(account, "secret_token")
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        store_rejected(request, account, reason="bad secret token")
        return json_error(401, "bad_signature", "Missing or wrong secret token.")
    try:
        update = loads_guarded(request.body)
    except (ValueError, UnicodeDecodeError):
        update = None
    external_id = external_id_of(update) if isinstance(update, dict) else ""
    store_and_queue(request, account, dedupe_key=f"telegram:{external_id}" if external_id else "")
    return JsonResponse({"ok": True})


# --- outbound --------------------------------------------------------------------------------------------------


def _chunks(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [text]


def _send_message(url: str, body: dict[str, Any]) -> str:
    for attempt in (0, 1):
        response = call("POST", url, json_body=body, what="sendMessage")
        data = json_of(response)
        if response.status_code == 200 and data.get("ok"):
            return _id(_dict(data.get("result")).get("message_id"))
        description = str(data.get("description") or "")[:300]
        if response.status_code == 429:
            retry_after = _dict(data.get("parameters")).get("retry_after")
            seconds = float(retry_after) if isinstance(retry_after, (int, float)) else 30.0
            if seconds <= INLINE_RETRY_AFTER and attempt == 0:
                time.sleep(seconds)
                continue
            raise SendError(f"sendMessage: HTTP 429 {description}; retry after {seconds:g} s", retry_after=seconds)
        permanent = 400 <= response.status_code < 500  # chat not found, bot blocked, bad token
        raise SendError(f"sendMessage: HTTP {response.status_code} {description}".strip(), permanent=permanent)
    raise SendError("sendMessage: still rate limited")  # pragma: no cover - the loop returns or raises


@register_sender("telegram")
def send_telegram(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """sendMessage to the chat the customer wrote from (split past 4,096 characters); returns the message id."""
    account = require_account(account, "telegram")
    chat_id = str(reply_context(outbound).get("conversation_key") or outbound.recipient)
    url = f"{base_url(account, 'api_base', API_BASE)}/bot{secret_str(account, 'bot_token')}/sendMessage"
    ids = [_send_message(url, {"chat_id": chat_id, "text": part}) for part in _chunks(reply_text(outbound))]
    return ",".join(i for i in ids if i)
