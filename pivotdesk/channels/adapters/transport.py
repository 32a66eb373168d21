"""HTTP for the messaging adapters: calling a platform's send API and downloading the media a message points at.

Send failures become `SendError`s the outbox understands: network errors, 429 and 5xx are retried with back-off;
other 4xx answers (bad token, unknown recipient) are permanent. Media downloads are capped and never raise past
`MediaCollector`, which keeps the reason so a failed download never loses the message's text.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from pivotdesk.channels.domain.inbound import InboundAttachment
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.common import egress

SEND_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MEDIA_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MEDIA_TOTAL_SECONDS = 120.0  # a whole download, however slowly the server trickles bytes
TRANSIENT_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "PivotDesk/1 (+https://github.com/pivotdesk)"


def send_request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    transient: Callable[[httpx.Response], bool] | None = None,
    accept: frozenset[int] = frozenset(),
) -> httpx.Response:
    """One call of a platform API; a 2xx response (or a status in `accept`) is returned, anything else raises
    SendError."""
    if not url.startswith(("http://", "https://")):
        raise SendError(f"Misconfigured channel: '{url[:200]}' is not an http(s) URL.", permanent=True)
    try:
        with egress.guarded_client(timeout=SEND_TIMEOUT) as client:
            response = client.request(
                method,
                url,
                json=json_body,
                content=content,
                data=data,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
                params=params,
                auth=auth,
            )
    except httpx.HTTPError as exc:
        raise SendError(f"{type(exc).__name__} calling {_redacted(url)}: {exc}") from exc
    if response.is_success or response.status_code in accept:
        return response
    retry = response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES
    if not retry and transient is not None:
        retry = transient(response)
    raise SendError(
        f"HTTP {response.status_code} from {_redacted(url)}: {response.text[:300]}",
        permanent=not retry,
        retry_after=_retry_after(response) if retry else None,
    )


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (the delta form; an HTTP date is left to the outbox's back-off)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), 24 * 3600.0)


def _redacted(url: str) -> str:
    """The URL without its query (Graph API tokens travel in it)."""
    return url.split("?", 1)[0]


class MediaError(Exception):
    """A media file could not be downloaded (the reason is kept on the message)."""


def fetch_media(
    url: str, *, headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None
) -> tuple[bytes, str]:
    """Download a media file (following redirects, capped at the attachment size limit) → (content, content type)."""
    if not url.startswith(("http://", "https://")):
        raise MediaError(f"not an http(s) URL: {url[:200]!r}")
    limit = int(settings.PIVOTDESK_ATTACHMENT_MAX_BYTES)
    try:
        with (
            egress.guarded_client(timeout=MEDIA_TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url, headers={"User-Agent": USER_AGENT, **(headers or {})}, auth=auth) as response,
        ):
            if not response.is_success:
                raise MediaError(f"HTTP {response.status_code} from {_redacted(url)}")
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + MEDIA_TOTAL_SECONDS
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise MediaError(f"larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise MediaError(f"took longer than {MEDIA_TOTAL_SECONDS:g} s")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx.HTTPError as exc:
        raise MediaError(f"{type(exc).__name__}: {exc}") from exc
    except ValueError as exc:  # httpx rejects some malformed URLs with ValueError subclasses
        raise MediaError(f"invalid URL: {exc}") from exc
    return b"".join(chunks), content_type


def filename_for(stem: str, content_type: str, given: str = "") -> str:
    """A file name for a downloaded medium: the given one, else the stem with the type's usual extension."""
    if given.strip():
        return given.strip()[:200]
    extension = mimetypes.guess_extension(content_type or "") or ""
    return f"{stem}{extension}"[:200]


def is_voice_or_video(content_type: str) -> bool:
    return content_type.lower().startswith(("audio/", "video/"))


@dataclass
class MediaCollector:
    """Gathers a message's attachments; a failed download is noted (and shown in the text when it has none)."""

    attachments: list[InboundAttachment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)

    def fetch(
        self,
        url: str,
        *,
        kind: str,
        stem: str,
        content_type: str = "",
        filename: str = "",
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        """Download one medium; on failure remember why and keep a `[kind]` placeholder for the text."""
        try:
            content, served_type = fetch_media(url, headers=headers, auth=auth)
        except MediaError as exc:
            self.errors.append(f"{kind} {stem}: {exc}")
            self.placeholders.append(f"[{kind}: download failed]")
            return
        self.add(content, kind=kind, stem=stem, content_type=served_type or content_type, filename=filename)

    def add(self, content: bytes, *, kind: str, stem: str, content_type: str = "", filename: str = "") -> None:
        content_type = (content_type or _guess_type(filename) or _kind_type(kind)).lower()
        self.attachments.append(InboundAttachment(filename_for(stem, content_type, filename), content_type, content))

    def fail(self, message: str, *, kind: str) -> None:
        self.errors.append(message)
        self.placeholders.append(f"[{kind}: download failed]")

    @property
    def needs_transcription(self) -> bool:
        return any(is_voice_or_video(a.content_type) for a in self.attachments)

    def text_with(self, text: str) -> str:
        """The message text; when there is none and nothing was stored, the placeholders so nothing is empty."""
        if text.strip() or self.attachments:
            return text
        return " ".join(self.placeholders)

    def metadata(self) -> dict[str, Any]:
        return {"media_errors": self.errors[:20]} if self.errors else {}


def _guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "" if filename else ""


def _kind_type(kind: str) -> str:
    return {"image": "image/jpeg", "audio": "audio/mpeg", "video": "video/mp4"}.get(kind, "application/octet-stream")
