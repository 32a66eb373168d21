"""WeCom customer service (微信客服): the encrypted callback (msg_signature + AES, corp id checked), message pulls
through kf/sync_msg, and replies through kf/send_msg.

The callback only says "there are new messages" (event kf_msg_or_event with a short-lived Token). Processing that
callback pulls with the account's last cursor, and stores every pulled page as its own inbound payload (JSON, meta
source=sync_msg with the cursor it was pulled from and the next one), queued like any webhook. So the raw messages
are stored before they are parsed, each page is re-processable on its own, and the latest page's next_cursor is the
durable cursor of the next pull. A lost cursor only re-pulls messages, which deduplicate by msgid.

Account config: corp_id, open_kfid (default customer-service account for replies), api_base
(default https://qyapi.weixin.qq.com). Account secrets: token, encoding_aes_key, secret (the KF app's secret).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.platform_api import (
    PLACEHOLDER,
    base_url,
    config_str,
    ensure_accepted,
    fetch_media,
    reply_context,
    reply_text,
    require_account,
    secret_str,
    store_rejected,
)
from pivotdesk.channels.adapters.wechat import PERMANENT, api_post, fetch_token, media_get
from pivotdesk.channels.domain import wechat_crypto
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound, PayloadError
from pivotdesk.channels.domain.wechat_xml import XmlError, parse_flat_xml
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.webhooks import register_webhook, store_and_queue
from pivotdesk.common.json_guard import loads_guarded

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, OutboundMessage

API_BASE = "https://qyapi.weixin.qq.com"
ORIGIN_CUSTOMER = 3  # 3: sent by the WeChat customer; 4: system event; 5: sent by a servicer (our own replies)
MAX_PAGES = 20
# Beyond WeChat's: invalid open_kfid, invalid external_userid, the session does not allow sending.
WECOM_PERMANENT = frozenset(PERMANENT | {40096, 95004, 95018})
MEDIA_KINDS = {"image": "image", "voice": "voice", "video": "video", "file": "file"}


def access_token(account: ChannelAccount, *, refresh: bool = False) -> str:
    corp_id = config_str(account, "corp_id")
    return fetch_token(
        cache_key=f"channels:wecom:token:{account.pk}:{corp_id}",
        url=f"{base_url(account, 'api_base', API_BASE)}/cgi-bin/gettoken",
        params={"corpid": corp_id, "corpsecret": secret_str(account, "secret")},
        refresh=refresh,
    )


def _post(account: ChannelAccount, path: str, body: dict[str, Any], *, what: str) -> dict[str, Any]:
    return api_post(
        account, path, body, what=what, token_fn=access_token, default_base=API_BASE, permanent=WECOM_PERMANENT
    )


def _decrypt(account: ChannelAccount, encrypted: str) -> str:
    return wechat_crypto.decrypt(
        encrypted, encoding_aes_key=secret_str(account, "encoding_aes_key"), receive_id=config_str(account, "corp_id")
    )


# --- pulling ---------------------------------------------------------------------------------------------------


def last_cursor(account: ChannelAccount, open_kfid: str) -> str:
    """The next_cursor of the latest page pulled for this customer-service account ("" before the first pull)."""
    meta = (
        InboundPayload.objects.filter(account=account, channel="wecom", meta__source="sync_msg")
        .filter(meta__open_kfid=open_kfid)
        .order_by("-pk")
        .values_list("meta", flat=True)
        .first()
    )
    return str(meta.get("next_cursor", "")) if isinstance(meta, dict) else ""


def pull_messages(account: ChannelAccount, *, token: str, open_kfid: str, callback_id: int | None) -> int:
    """kf/sync_msg from the last cursor until has_more is 0; each non-empty page becomes a stored, queued payload.
    Returns the number of pages stored."""
    from pivotdesk.channels.tasks import process_inbound_task

    cursor = last_cursor(account, open_kfid)
    stored = 0
    for _ in range(MAX_PAGES):
        body: dict[str, Any] = {"limit": 1000, "voice_format": 0}
        body.update({k: v for k, v in (("cursor", cursor), ("token", token), ("open_kfid", open_kfid)) if v})
        data = _post(account, "/cgi-bin/kf/sync_msg", body, what="kf/sync_msg")
        next_cursor = str(data.get("next_cursor") or cursor)
        if isinstance(data.get("msg_list"), list) and data["msg_list"]:
            meta = {
                "source": "sync_msg",
                "open_kfid": open_kfid,
                "cursor": cursor,
                "next_cursor": next_cursor,
                "callback_payload_id": callback_id,
            }
            with transaction.atomic():
                page = inbound_store(
                    actor=Actor.system("channel"),
                    workspace=account.workspace,
                    channel="wecom",
                    raw=json.dumps(data, ensure_ascii=False).encode(),
                    content_type="application/json",
                    meta=meta,
                    account=account,
                )
                transaction.on_commit(partial(process_inbound_task.delay, page.pk))
            stored += 1
        cursor = next_cursor
        if not data.get("has_more"):
            break
    return stored


# --- inbound ---------------------------------------------------------------------------------------------------


def _str(value: object, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _normalize(msg: dict[str, Any], account: ChannelAccount | None) -> NormalizedInbound | None:
    if msg.get("origin") != ORIGIN_CUSTOMER:
        return None
    kind = _str(msg.get("msgtype"), 40)
    user, msgid = _str(msg.get("external_userid")), _str(msg.get("msgid"))
    if kind == "event":
        return None
    if not user or not msgid:
        raise PayloadError("A pulled message without external_userid or msgid.")
    open_kfid = _str(msg.get("open_kfid"))
    metadata: dict[str, Any] = {"wecom_msgtype": kind, "open_kfid": open_kfid}
    raw_part = msg.get(kind)
    part: dict[str, Any] = raw_part if isinstance(raw_part, dict) else {}
    attachments: list[InboundAttachment] = []
    if kind == "text":
        text = _str(part.get("content"), 100_000)
    elif kind in MEDIA_KINDS:
        media_id, att_kind = _str(part.get("media_id"), 500), MEDIA_KINDS[kind]
        text = PLACEHOLDER[att_kind]
        if not media_id or account is None:
            metadata.setdefault("media_errors", []).append(f"{att_kind}: no media id or channel account")
        else:
            fetch_media(
                attachments,
                metadata,
                label=f"{att_kind} {media_id[:40]}",
                fetch=lambda: media_get(
                    account, media_id=media_id, kind=att_kind, token_fn=access_token, default_base=API_BASE
                ),
            )
    elif kind == "location":
        metadata["location"] = {k: part.get(k) for k in ("latitude", "longitude", "name", "address") if k in part}
        label = " ".join(p for p in (_str(part.get("name")), _str(part.get("address"))) if p)
        text = f"{PLACEHOLDER['location']} {label} ({part.get('latitude')}, {part.get('longitude')})"
    elif kind == "link":
        text = "\n".join(p for p in (_str(part.get("title")), _str(part.get("desc")), _str(part.get("url"), 2000)) if p)
    else:
        text, metadata["unsupported"] = f"[{kind or 'unsupported'} message]", True
    send_time = msg.get("send_time")
    sent_at = (
        dt.datetime.fromtimestamp(send_time, tz=dt.UTC)
        if isinstance(send_time, int) and not isinstance(send_time, bool) and 0 < send_time < 4_102_444_800
        else None
    )
    return NormalizedInbound(
        channel="wecom",
        identity_kind="wecom",
        identity_value=user,
        text=text or "[empty message]",
        attachments=attachments,
        external_id=msgid,
        sent_at=sent_at,
        conversation_key=open_kfid,
        metadata=metadata,
        needs_transcription=kind in ("voice", "video"),
    )


def normalize_page(data: dict[str, Any], account: ChannelAccount | None) -> list[NormalizedInbound]:
    """A pulled sync_msg page → the customers' messages in it (servicer echoes and events are skipped)."""
    msg_list = data.get("msg_list")
    if not isinstance(msg_list, list):
        raise PayloadError("A sync_msg page without msg_list.")
    found = [_normalize(m, account) for m in msg_list if isinstance(m, dict)]
    return [m for m in found if m is not None]


@register_parser("wecom")
def parse_wecom_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """Either a pulled page (its messages) or a callback (pull now; the callback itself carries no message)."""
    ensure_accepted(payload)
    meta = payload.meta if isinstance(payload.meta, dict) else {}
    raw = bytes(payload.raw)
    if meta.get("source") == "sync_msg":
        try:
            data = loads_guarded(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError(f"Not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PayloadError("A sync_msg page is a JSON object.")
        return normalize_page(data, payload.account)
    account = payload.account
    if account is None:
        raise PayloadError("A WeCom callback without a channel account cannot be decrypted.")
    try:
        outer = parse_flat_xml(raw)
        fields = parse_flat_xml(_decrypt(account, outer.get("Encrypt", "")))
    except (XmlError, wechat_crypto.CryptoError) as exc:
        raise PayloadError(f"Cannot read the callback: {exc}") from exc
    if fields.get("Event") != "kf_msg_or_event":
        return []
    try:
        pull_messages(
            account, token=fields.get("Token", ""), open_kfid=fields.get("OpenKfId", ""), callback_id=payload.pk
        )
    except SendError as exc:  # the callback stays failed and can be re-processed (which pulls again)
        raise PayloadError(f"kf/sync_msg failed: {exc}") from exc
    return []


@register_webhook("wecom")
def wecom_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """GET: URL check (decrypt and echo echostr). POST: an encrypted callback, verified, stored, answered "success"."""
    q = request.GET
    token = secret_str(account, "token")
    timestamp, nonce, given = q.get("timestamp", ""), q.get("nonce", ""), q.get("msg_signature", "")

    def signed(encrypted: str) -> bool:
        expected = wechat_crypto.msg_signature(token, timestamp, nonce, encrypted)
        return bool(token and encrypted) and wechat_crypto.signature_matches(expected, given)

    if request.method == "GET":
        echostr = q.get("echostr", "")
        if not signed(echostr):
            return HttpResponse("bad signature", status=403, content_type="text/plain")
        try:
            return HttpResponse(_decrypt(account, echostr), content_type="text/plain")
        except wechat_crypto.CryptoError:
            return HttpResponse("cannot decrypt echostr", status=400, content_type="text/plain")
    if request.method != "POST":
        return HttpResponse("method not allowed", status=405, content_type="text/plain")
    try:
        encrypted = parse_flat_xml(request.body).get("Encrypt", "")
    except XmlError:
        encrypted = ""
    if not signed(encrypted):
        store_rejected(request, account, reason="bad signature")
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    store_and_queue(request, account)
    return HttpResponse("success", content_type="text/plain")


# --- outbound --------------------------------------------------------------------------------------------------


@register_sender("wecom")
def send_wecom(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """kf/send_msg as the customer-service account the customer wrote to; returns the msgid."""
    account = require_account(account, "wecom")
    open_kfid = str(reply_context(outbound).get("open_kfid") or config_str(account, "open_kfid"))
    if not open_kfid:
        raise SendError("No open_kfid to reply as (configure one on the WeCom channel).", permanent=True)
    body = {
        "touser": outbound.recipient,
        "open_kfid": open_kfid,
        "msgtype": "text",
        "text": {"content": reply_text(outbound)},
    }
    data = _post(account, "/cgi-bin/kf/send_msg", body, what="kf/send_msg")
    return str(data.get("msgid", "") or "")
