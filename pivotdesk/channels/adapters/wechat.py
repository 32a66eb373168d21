"""WeChat Official Account: the callback URL (GET check, POST XML in plaintext or AES safe mode, optional passive
reply), the parser (text, image, voice, video, location, link; events ignored) and customer-service replies.

Account config: app_id, api_base (default https://api.weixin.qq.com), auto_ack (a passive reply text, optional).
Account secrets: token (callback token), app_secret, encoding_aes_key (safe mode only).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets as pysecrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

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
from pivotdesk.channels.domain import wechat_crypto
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound, PayloadError
from pivotdesk.channels.domain.wechat_xml import XmlError, build_xml, parse_flat_xml
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.webhooks import register_webhook, store_and_queue

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

API_BASE = "https://api.weixin.qq.com"
TOKEN_EXPIRED = {40001, 40014, 42001}  # invalid / expired access token: fetch a new one and retry once
# Not worth retrying: bad openid, outside the 48-hour window, user unsubscribed or blocked, API not granted.
PERMANENT = {40003, 40013, 40125, 43004, 45015, 45047, 48001, 61004}
MEDIA_TYPES = ("image", "voice", "video", "shortvideo")


# --- access tokens (shared with WeCom, which uses the same token shape) ------------------------------------------


def fetch_token(*, cache_key: str, url: str, params: dict[str, str], refresh: bool = False) -> str:
    """An API access token, cached until shortly before it expires; `refresh` forces a new one."""
    if not refresh:
        cached = cache.get(cache_key)
        if isinstance(cached, str) and cached:
            return cached
    response = call("GET", url, params=params, what="access token")
    data = json_of(response)
    token = str(data.get("access_token", "") or "")
    if response.status_code >= 500 or not token:
        errcode = _int(data.get("errcode"))
        permanent = response.status_code < 500 and errcode in {40001, 40013, 40125, 40164, 41002, 41004, 60020}
        raise SendError(
            f"access token refused: HTTP {response.status_code} errcode {errcode} {data.get('errmsg', '')}".strip(),
            permanent=permanent,
        )
    expires_in = _int(data.get("expires_in")) or 7200
    cache.set(cache_key, token, timeout=max(60, expires_in - 300))
    return token


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def access_token(account: ChannelAccount, *, refresh: bool = False) -> str:
    app_id = config_str(account, "app_id")
    return fetch_token(
        cache_key=f"channels:wechat:token:{account.pk}:{app_id}",
        url=f"{base_url(account, 'api_base', API_BASE)}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": app_id, "secret": secret_str(account, "app_secret")},
        refresh=refresh,
    )


TokenFn = Callable[..., str]


def api_post(
    account: ChannelAccount,
    path: str,
    body: dict[str, Any],
    *,
    what: str,
    token_fn: TokenFn = access_token,
    default_base: str = API_BASE,
    permanent: frozenset[int] = frozenset(PERMANENT),
) -> dict[str, Any]:
    """POST to a WeChat (or WeCom) API with the access token; an expired token is refreshed and the call retried
    once."""
    url = f"{base_url(account, 'api_base', default_base)}{path}"
    for attempt in (0, 1):
        token = token_fn(account, refresh=attempt == 1)
        response = call("POST", url, params={"access_token": token}, json_body=body, what=what)
        if response.status_code == 429 or response.status_code >= 500:
            raise SendError(f"{what}: HTTP {response.status_code}")
        data = json_of(response)
        errcode = _int(data.get("errcode"))
        if errcode in TOKEN_EXPIRED and attempt == 0:
            continue
        if response.status_code != 200 or errcode:
            raise SendError(
                f"{what}: HTTP {response.status_code} errcode {errcode} {data.get('errmsg', '')}".strip(),
                permanent=errcode in permanent or 400 <= response.status_code < 500,
            )
        return data
    raise SendError(f"{what}: the access token was refused twice")  # pragma: no cover - the loop returns or raises


def media_get(
    account: ChannelAccount,
    *,
    media_id: str,
    kind: str,
    token_fn: TokenFn = access_token,
    default_base: str = API_BASE,
) -> InboundAttachment:
    """Download a temporary media file by MediaId (cgi-bin/media/get); videos answer with a video_url first."""
    url = f"{base_url(account, 'api_base', default_base)}/cgi-bin/media/get"
    for attempt in (0, 1):
        token = token_fn(account, refresh=attempt == 1)
        content, content_type, filename = download(url, params={"access_token": token, "media_id": media_id})
        if content_type in ("application/json", "text/plain") and content[:1] == b"{":
            try:
                data = json.loads(content)
            except ValueError as exc:
                raise MediaError("media/get answered unreadable JSON") from exc
            if isinstance(data, dict) and data.get("video_url"):
                content, content_type, filename = download(str(data["video_url"]))
            else:
                errcode = _int(data.get("errcode")) if isinstance(data, dict) else 0
                if errcode in TOKEN_EXPIRED and attempt == 0:
                    continue
                raise MediaError(f"media/get errcode {errcode}")
        return InboundAttachment(filename_for(kind, media_id, content_type, filename), content_type, content)
    raise MediaError("media/get: the access token was refused twice")  # pragma: no cover


# --- inbound ---------------------------------------------------------------------------------------------------


def decrypt_fields(fields: dict[str, str], account: ChannelAccount | None) -> dict[str, str]:
    """The message fields of a callback: as is in plaintext mode, decrypted from <Encrypt> in safe mode."""
    if "Encrypt" not in fields:
        return fields
    if account is None:
        raise PayloadError("An encrypted callback without a channel account cannot be decrypted.")
    try:
        inner = wechat_crypto.decrypt(
            fields["Encrypt"],
            encoding_aes_key=secret_str(account, "encoding_aes_key"),
            receive_id=config_str(account, "app_id"),
        )
        return parse_flat_xml(inner)
    except (wechat_crypto.CryptoError, XmlError) as exc:
        raise PayloadError(f"Cannot decrypt the safe-mode message: {exc}") from exc


def _sent_at(create_time: str) -> dt.datetime | None:
    seconds = _int(create_time)
    if seconds <= 0 or seconds > 4_102_444_800:  # year 2100
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def normalize_wechat(fields: dict[str, str], account: ChannelAccount | None) -> list[NormalizedInbound]:
    """One callback → one message (or none for events such as subscribe/unsubscribe)."""
    msg_type = fields.get("MsgType", "").lower()
    if not msg_type:
        raise PayloadError("No MsgType in the callback.")
    if msg_type == "event":
        return []
    openid = fields.get("FromUserName", "").strip()
    if not openid or len(openid) > 255:
        raise PayloadError("No FromUserName (openid) in the callback.")
    metadata: dict[str, Any] = {"wechat_msg_type": msg_type, "to": fields.get("ToUserName", "")}
    attachments: list[InboundAttachment] = []
    text = ""
    if msg_type == "text":
        text = fields.get("Content", "")
    elif msg_type in MEDIA_TYPES:
        kind = "video" if msg_type == "shortvideo" else msg_type
        media_id = fields.get("MediaId", "")
        if msg_type == "image":
            metadata["pic_url"] = fields.get("PicUrl", "")
        if msg_type == "voice":
            metadata["voice_format"] = fields.get("Format", "")
            if fields.get("Recognition"):
                metadata["recognition"] = fields["Recognition"]
        text = fields.get("Recognition", "") or PLACEHOLDER[kind]
        if not media_id:
            metadata.setdefault("media_errors", []).append(f"{kind}: no MediaId")
        elif account is None:
            metadata.setdefault("media_errors", []).append(f"{kind}: no channel account to download with")
        else:
            fetch_media(
                attachments,
                metadata,
                label=f"{kind} {media_id}",
                fetch=lambda: media_get(account, media_id=media_id, kind=kind),
            )
    elif msg_type == "location":
        label = fields.get("Label", "")
        x, y = fields.get("Location_X", ""), fields.get("Location_Y", "")
        metadata["location"] = {"lat": x, "lon": y, "scale": fields.get("Scale", ""), "label": label}
        text = f"{PLACEHOLDER['location']} {label} ({x}, {y})".replace("  ", " ")
    elif msg_type == "link":
        metadata["link"] = fields.get("Url", "")
        text = "\n".join(
            p for p in (fields.get("Title", ""), fields.get("Description", ""), fields.get("Url", "")) if p
        )
    else:
        text = f"[{msg_type[:40]} message]"
        metadata["unsupported"] = True
    external_id = fields.get("MsgId", "") or f"{openid}:{fields.get('CreateTime', '')}"
    return [
        NormalizedInbound(
            channel="wechat",
            identity_kind="wechat",
            identity_value=openid,
            text=text.strip() or PLACEHOLDER["file"],
            attachments=attachments,
            external_id=external_id[:255],
            sent_at=_sent_at(fields.get("CreateTime", "")),
            conversation_key=openid,
            metadata=metadata,
            needs_transcription=msg_type in ("voice", "video", "shortvideo"),
        )
    ]


@register_parser("wechat")
def parse_wechat_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    ensure_accepted(payload)
    try:
        fields = parse_flat_xml(bytes(payload.raw))
    except XmlError as exc:
        raise PayloadError(str(exc)) from exc
    return normalize_wechat(decrypt_fields(fields, payload.account), payload.account)


# --- the callback URL ------------------------------------------------------------------------------------------


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@register_webhook("wechat")
def wechat_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """GET: the URL check (echo `echostr`). POST: a message, verified, stored, answered at once ("success" or the
    passive reply), processed in the background."""
    token = secret_str(account, "token")
    q = request.GET
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    plain_ok = bool(token) and wechat_crypto.signature_matches(
        wechat_crypto.plain_signature(token, timestamp, nonce), q.get("signature", "")
    )
    if request.method == "GET":
        return _text(q.get("echostr", "")) if plain_ok else _text("bad signature", 403)
    if request.method != "POST":
        return _text("method not allowed", 405)
    try:
        outer = parse_flat_xml(request.body)
    except XmlError:
        outer = {}
    safe_mode = q.get("encrypt_type", "").lower() == "aes" or "Encrypt" in outer
    if safe_mode:
        encrypted = outer.get("Encrypt", "")
        ok = bool(token and encrypted) and wechat_crypto.signature_matches(
            wechat_crypto.msg_signature(token, timestamp, nonce, encrypted), q.get("msg_signature", "")
        )
    else:
        ok = plain_ok
    if not ok:
        store_rejected(request, account, reason="bad signature")
        return _text("bad signature", 403)
    try:
        fields = decrypt_fields(outer, account) if outer else {}
    except PayloadError:
        fields = {}  # stored and processed anyway: the parser records why it cannot be read
    msg_id = fields.get("MsgId", "")
    store_and_queue(request, account, dedupe_key=f"wechat:{msg_id}" if msg_id else "")
    return _passive_reply(account, fields, safe_mode=safe_mode, nonce=nonce) or _text("success")


def _passive_reply(
    account: ChannelAccount, fields: dict[str, str], *, safe_mode: bool, nonce: str
) -> HttpResponse | None:
    """The optional automatic acknowledgement (config auto_ack) as a passive text reply to a customer message."""
    ack = config_str(account, "auto_ack")
    if not ack or not fields.get("FromUserName") or fields.get("MsgType", "event").lower() == "event":
        return None
    now = int(time.time())
    reply = build_xml(
        {
            "ToUserName": fields["FromUserName"],
            "FromUserName": fields.get("ToUserName", ""),
            "CreateTime": now,
            "MsgType": "text",
            "Content": ack,
        }
    )
    if not safe_mode:
        return HttpResponse(reply, content_type="application/xml; charset=utf-8")
    token = secret_str(account, "token")
    reply_nonce = nonce or pysecrets.token_hex(8)
    try:
        encrypted = wechat_crypto.encrypt(
            reply, encoding_aes_key=secret_str(account, "encoding_aes_key"), receive_id=config_str(account, "app_id")
        )
    except wechat_crypto.CryptoError:
        return None
    signature = wechat_crypto.msg_signature(token, str(now), reply_nonce, encrypted)
    wrapped = build_xml({"Encrypt": encrypted, "MsgSignature": signature, "TimeStamp": now, "Nonce": reply_nonce})
    return HttpResponse(wrapped, content_type="application/xml; charset=utf-8")


# --- outbound --------------------------------------------------------------------------------------------------


@register_sender("wechat")
def send_wechat(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """A customer-service text message (cgi-bin/message/custom/send; within 48 hours of the customer's message)."""
    account = require_account(account, "wechat")
    body = {"touser": outbound.recipient, "msgtype": "text", "text": {"content": reply_text(outbound)}}
    data = api_post(account, "/cgi-bin/message/custom/send", body, what="custom/send")
    return str(data.get("msgid", "") or "")
