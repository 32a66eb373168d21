"""How long the scanner waits before checking again a ticket whose SLA check failed: exponential back-off."""

from __future__ import annotations

import datetime as dt

FIRST_RETRY = dt.timedelta(minutes=5)
MAX_RETRY = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th consecutive failure (1 → 5 min, 2 → 10 min, 3 → 20 min …, at most 6 h)."""
    if attempts < 1:
        raise ValueError("attempts counts failures: 1 or more")
    if attempts > 20:  # 5 min × 2**19 is far past the cap; no need for huge powers
        return MAX_RETRY
    delay: dt.timedelta = FIRST_RETRY * (2 ** (attempts - 1))
    return min(delay, MAX_RETRY)
