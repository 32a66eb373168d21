"""WhatsApp Cloud API (Meta webhooks) signature: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(app secret, body)."""

from __future__ import annotations

import hashlib
import hmac


def hub_signature(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value Meta sends for this body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def hub_signature_matches(app_secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of the header against the body; an empty secret never matches."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(
        hub_signature(app_secret, body).encode(), header.strip().lower().encode("utf-8", "replace")
    )
