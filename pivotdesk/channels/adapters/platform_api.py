"""What the messaging adapters (WeChat, WeCom, Telegram, WhatsApp) share: HTTP calls with timeouts, media downloads
that never lose the text, rejected-signature payloads kept for admins but never processed, reply context."""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from django.db import transaction
from django.http import HttpRequest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.inbound import InboundAttachment, PayloadError
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.webhooks import request_meta
from pivotdesk.common import egress
from pivotdesk.common.delivery_errors import DeliveryErrorCode
from pivotdesk.tickets.models import AuthorType, Message

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MEDIA_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
MAX_MEDIA_BYTES = 30 * 1024 * 1024
REJECTED_KEEP_BYTES = 64 * 1024
USER_AGENT = "PivotDesk/1 (+channels)"

# Placeholders so that a media-only message always has a readable body (and never fails "needs text").
PLACEHOLDER = {
    "image": "[image]",
    "voice": "[voice message]",
    "video": "[video]",
    "file": "[file]",
    "sticker": "[sticker]",
    "location": "[location]",
}


class MediaError(Exception):
    """A media file could not be downloaded; recorded on the message, the text is kept."""


def config_str(account: ChannelAccount, key: str, default: str = "") -> str:
    value = account.config.get(key, default) if isinstance(account.config, dict) else default
    return str(value or default).strip()


def secret_str(account: ChannelAccount, key: str) -> str:
    return str(account.secrets.get(key, "") or "").strip()


def base_url(account: ChannelAccount, key: str, default: str) -> str:
    """A configurable API base (tests point it at a local peer, production at the platform)."""
    return config_str(account, key, default).rstrip("/")


def call(
    method: str,
    url: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One HTTP call to a platform API; network errors become a retryable SendError. JSON is sent as UTF-8
    without \\u escapes (WeChat shows escapes literally)."""
    content = json.dumps(json_body, ensure_ascii=False).encode() if json_body is not None else None
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if content is not None:
        all_headers["Content-Type"] = "application/json; charset=utf-8"
    try:
        with egress.guarded_client(timeout=TIMEOUT, follow_redirects=False) as client:
            return client.request(method, url, params=params, content=content, headers=all_headers)
    except httpx.HTTPError as exc:
        raise SendError(f"{what}: {type(exc).__name__}: {exc}") from exc


def json_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a response, or {} when the body is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def download(
    url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[bytes, str, str]:
    """Download a file (size-capped, streamed): (content, content type, filename from Content-Disposition)."""
    try:
        with (
            egress.guarded_client(timeout=MEDIA_TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url, params=params, headers={"User-Agent": USER_AGENT, **(headers or {})}) as resp,
        ):
            if resp.status_code != 200:
                raise MediaError(f"HTTP {resp.status_code} downloading media")
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise MediaError(f"media larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
                chunks.append(chunk)
            content_type = resp.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
            disposition = resp.headers.get("content-disposition", "")
    except httpx.HTTPError as exc:
        raise MediaError(f"{type(exc).__name__}: {exc}") from exc
    filename = ""
    if "filename=" in disposition:
        filename = disposition.split("filename=", 1)[1].strip().strip('"').split(";")[0].strip('"')
    return b"".join(chunks), content_type or "application/octet-stream", filename


def filename_for(kind: str, media_id: str, content_type: str, given: str = "") -> str:
    """A readable attachment name: the platform's own, else kind + a short id + the type's extension."""
    if given:
        return given.replace("/", "_").replace("\\", "_")[:200]
    ext = mimetypes.guess_extension(content_type.split(";", maxsplit=1)[0].strip()) or ""
    if content_type.startswith("audio/amr"):
        ext = ".amr"
    elif content_type.startswith("audio/ogg"):
        ext = ".ogg"
    short = "".join(c for c in media_id if c.isalnum())[-16:] or "file"
    return f"{kind}-{short}{ext}"


def fetch_media(
    attachments: list[InboundAttachment],
    metadata: dict[str, Any],
    *,
    label: str,
    fetch: Callable[[], InboundAttachment],
) -> None:
    """Download one media file into `attachments`; a failure is recorded in metadata["media_errors"], never raised."""
    try:
        attachments.append(fetch())
    except (MediaError, SendError, PayloadError) as exc:
        log.warning("media %s could not be downloaded: %s", label, exc)
        metadata.setdefault("media_errors", []).append(f"{label}: {exc}"[:500])
    except Exception as exc:  # a download bug must not lose the message itself
        log.exception("media %s download failed", label)
        metadata.setdefault("media_errors", []).append(f"{label}: {type(exc).__name__}: {exc}"[:500])


def store_rejected(
    request: HttpRequest, account: ChannelAccount, *, reason: str, extra_headers: tuple[str, ...] = ()
) -> InboundPayload | None:
    """Keep a request whose signature failed (first 64 KB) so an admin can debug a misconfigured token; it is
    marked rejected, so processing it (now or on a manual retry) always ends as failed with the reason. Beyond the
    account's cap of stored rejections it is only counted (None; `channels.services.rejections`)."""
    from pivotdesk.channels.services.rejections import rejected_admit
    from pivotdesk.channels.tasks import process_inbound_task

    admitted = rejected_admit(actor=Actor.system("channel"), account=account)
    if admitted is None:
        return None
    meta = request_meta(request, extra_headers=extra_headers)
    meta.update(admitted)
    meta["rejected"] = reason
    if len(request.body) > REJECTED_KEEP_BYTES:
        meta["truncated_from"] = len(request.body)
    with transaction.atomic():
        payload = inbound_store(
            actor=Actor.system("channel"),
            workspace=account.workspace,
            channel=account.kind,
            raw=request.body[:REJECTED_KEEP_BYTES],
            content_type=request.content_type or "",
            meta=meta,
            account=account,
        )
        transaction.on_commit(lambda: process_inbound_task.delay(payload.pk))
    return payload


def ensure_accepted(payload: InboundPayload) -> None:
    """Parsers call this first: a payload rejected at the webhook (bad signature) is never processed."""
    meta = payload.meta if isinstance(payload.meta, dict) else {}
    if meta.get("rejected"):
        raise PayloadError(f"Rejected at the webhook: {meta['rejected']}")


def reply_context(outbound: OutboundMessage) -> dict[str, Any]:
    """The metadata of the customer's latest message on the ticket (chat id, open_kfid… to answer in)."""
    message = Message.objects.filter(pk=outbound.message_id).only("ticket_id").first()
    if message is None:
        return {}
    latest = (
        Message.objects.filter(ticket_id=message.ticket_id, author_type=AuthorType.CONTACT)
        .order_by("-pk")
        .only("metadata")
        .first()
    )
    return dict(latest.metadata) if latest is not None and isinstance(latest.metadata, dict) else {}


def reply_text(outbound: OutboundMessage) -> str:
    """The plain text of the agent's reply (messaging platforms take text, not HTML)."""
    message = Message.objects.filter(pk=outbound.message_id).only("body_text").first()
    text = (message.body_text if message is not None else "").strip()
    if not text:
        raise SendError("The reply has no text to send.", permanent=True)
    return text


def require_account(account: ChannelAccount | None, channel: str) -> ChannelAccount:
    if account is None:
        raise SendError(
            f"No active {channel} channel account to send through.",
            permanent=True,
            code=DeliveryErrorCode.NO_ACCOUNT,
            params={"channel": channel},
        )
    return account
