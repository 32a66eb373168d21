"""A simulated clock for seeding history through the real services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.utils import timezone

from pivotdesk.common import events as common_events


class SimulatedClock:
    """While active, `django.utils.timezone.now` returns the clock's time.

    Why: the services (and `auto_now` fields) stamp rows with `timezone.now()` through `pivotdesk.common.time.now`.
    Seeding a month of history through those services, rather than rewriting timestamps afterwards, keeps every
    derived time consistent: message times, first response, solved/closed times, the timeline. Only the seed
    command uses this, in one thread, and restores the real clock on exit.
    """

    def __init__(self, start: dt.datetime) -> None:
        self.at = start
        self._real: Callable[[], dt.datetime] | None = None

    def set(self, at: dt.datetime) -> dt.datetime:
        self.at = at
        return at

    def __enter__(self) -> SimulatedClock:
        self._real = timezone.now
        timezone.now = self._now
        return self

    def __exit__(self, *exc: object) -> None:
        if self._real is not None:
            timezone.now = self._real
            self._real = None

    def _now(self) -> dt.datetime:
        return self.at


@contextmanager
def events_held_back() -> Iterator[None]:
    """Commit without storing domain events: a month of seeded history must not wake routing, SLA or webhooks
    thousands of times when `make run` starts."""
    with common_events.held_back():
        yield
