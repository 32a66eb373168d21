"""Retry back-off for outbound sends (pure): exponential, capped, with deterministic jitter per attempt."""

from __future__ import annotations

import hashlib


def retry_delay_seconds(attempt: int, *, base: float = 30.0, cap: float = 3600.0, key: str = "") -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1): base·2^(attempt-1), capped, ±20 %
    jitter derived from `key` so that many failures do not retry in lockstep."""
    exponent = min(max(attempt, 1) - 1, 30)
    delay: float = min(cap, base * float(2**exponent))
    digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    jitter = (digest[0] / 255.0 - 0.5) * 0.4  # -0.2 .. +0.2
    return float(max(1.0, min(cap, delay * (1 + jitter))))
