"""Signing outgoing webhook bodies, Stripe-style, and the `verify` function receivers can copy.

Header: `X-PivotDesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`. The timestamp is
inside the signed text, so an old request replayed later fails the tolerance check. Several `v1=` values may
appear: after a secret is rotated, deliveries carry one signature per valid secret (the new one first, the previous
one until its grace period ends), `t=…,v1=<new>,v1=<old>`; a request is genuine when any of them matches, so a
receiver still holding the old secret keeps accepting events while it switches.

This module imports only the standard library on purpose: a receiver may copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "X-PivotDesk-Signature"
EVENT_HEADER = "X-PivotDesk-Event"
DELIVERY_HEADER = "X-PivotDesk-Delivery"
TIMESTAMP_HEADER = "X-PivotDesk-Timestamp"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale, or does not match the body."""


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of `"{timestamp}.{body}"` under the endpoint's secret."""
    signed = f"{timestamp}.".encode() + _as_bytes(body)
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str | Sequence[str], body: bytes | str, *, timestamp: int | None = None) -> str:
    """The value of X-PivotDesk-Signature for this body, signed now (or at `timestamp`): one `v1=` per secret, in
    the order given (a rotated endpoint passes its new secret, then the previous one)."""
    t = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    return ",".join([f"t={t}", *(f"{SCHEME}={compute_signature(key, t, body)}" for key in keys)])


def signed_headers(
    secret: str | Sequence[str], body: bytes | str, *, event: str, delivery_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """Every PivotDesk header of one delivery: signature, event name, delivery id, timestamp, content type."""
    t = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secret, body, timestamp=t),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(t),
    }


def parse_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures of a signature header; SignatureError when malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise SignatureError("The timestamp is not an integer.") from exc
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("The signature header has no timestamp.")
    if not signatures:
        raise SignatureError(f"The signature header has no {SCHEME} signature.")
    return timestamp, signatures


def verify(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> int:
    """Check a received request; return its timestamp, or raise SignatureError.

    `body` must be the raw request body, byte for byte (not re-serialised JSON). A timestamp further than
    `tolerance_s` from now (either way) is rejected, so a captured request cannot be replayed later.
    """
    timestamp, signatures = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("The timestamp is outside the tolerance window.")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("No signature matches the body.")
    return timestamp
