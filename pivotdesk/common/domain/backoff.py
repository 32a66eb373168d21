"""When to try an outbound send again: one capped exponential back-off with jitter, for every outbox.

After failed attempt n (1-based) the wait is uniform in [c/2, c] with c = min(cap, base·2^(n-1)). Half of the delay
is fixed so retries never bunch up at zero; the other half is jitter so many rows failing together (one endpoint
down, one mail server down) do not retry in lock-step. A platform's own `retry_after` (HTTP 429 Retry-After) wins
when it asks for longer.
"""

from __future__ import annotations

import random

BASE_S = 30.0
CAP_S = 60 * 60.0


def backoff_ceiling(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    """The longest wait after the given failed attempt: base·2^(attempt-1), never more than `cap_s`."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    if base_s <= 0 or cap_s <= 0:
        raise ValueError("base and cap must be positive")
    # 2**64 is already far beyond any cap; clamping the exponent avoids huge floats.
    return min(cap_s, base_s * 2.0 ** min(attempt - 1, 64))


def backoff_seconds(
    attempt: int,
    *,
    base_s: float = BASE_S,
    cap_s: float = CAP_S,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the given failed attempt: uniform in [ceiling/2, ceiling], or the platform's
    `retry_after` when that is longer (capped too, so a hostile header cannot park a row for a year)."""
    ceiling = backoff_ceiling(attempt, base_s=base_s, cap_s=cap_s)
    delay = ceiling / 2 + (rng or random).random() * ceiling / 2
    if retry_after is not None and retry_after > delay:
        delay = min(float(retry_after), cap_s)
    return delay


def expected_backoff_seconds(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    """The mean of `backoff_seconds` for this attempt (three quarters of the ceiling)."""
    return 0.75 * backoff_ceiling(attempt, base_s=base_s, cap_s=cap_s)
