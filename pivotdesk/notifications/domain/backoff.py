"""Retry delays for external notification deliveries: capped exponential back-off with half jitter.

Attempt n (1-based, the attempt that just failed) waits a time in [c/2, c] where c = min(cap, base·2^(n-1)).
"""

from __future__ import annotations

import random

BASE_S = 30.0
CAP_S = 60 * 60.0


def backoff_ceiling(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    return min(cap_s, base_s * 2.0 ** min(attempt - 1, 64))


def backoff_seconds(
    attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S, rng: random.Random | None = None
) -> float:
    ceiling = backoff_ceiling(attempt, base_s=base_s, cap_s=cap_s)
    return ceiling / 2 + (rng or random).random() * ceiling / 2
