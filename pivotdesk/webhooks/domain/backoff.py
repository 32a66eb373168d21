"""When to try a failed delivery again: exponential back-off with full jitter, capped.

Attempt n (1-based: the attempt that just failed) waits a random time in [base·2^(n-1) / 2, base·2^(n-1)],
never more than `cap`. Half of the delay is fixed so retries never bunch up at zero; the other half is jitter so
many endpoints failing together do not retry in lock-step.
"""

from __future__ import annotations

import random

BASE_S = 30.0
CAP_S = 6 * 60 * 60.0


def backoff_ceiling(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    """The longest wait after the given failed attempt (before jitter)."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    # 2**64 is already far beyond any cap; clamping the exponent avoids huge integers.
    return min(cap_s, base_s * 2.0 ** min(attempt - 1, 64))


def backoff_seconds(
    attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the given failed attempt: uniform in [ceiling/2, ceiling]."""
    ceiling = backoff_ceiling(attempt, base_s=base_s, cap_s=cap_s)
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2


def expected_backoff_seconds(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    """The mean of `backoff_seconds` for this attempt (three quarters of the ceiling)."""
    return 0.75 * backoff_ceiling(attempt, base_s=base_s, cap_s=cap_s)
