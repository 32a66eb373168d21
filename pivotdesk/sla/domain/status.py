"""What an SLA badge says, decided in one place: for one clock, and for a ticket over its clocks.

The queue shows the ticket's status from its own columns (`Ticket.sla_state` / `sla_due_at`, written by
`sla_apply` with `ticket_status`), the ticket page shows each clock with `clock_status`; both are rendered from a
`ClockStatus` by the same code, so they cannot disagree. Pure Python (no Django).

Rules:
- A breach is kept whatever else holds: a breached clock that is paused is "breached" *and* paused.
- Pausing is ticket-wide (a paused status stops every running clock), so a ticket whose live clocks are all paused
  has no running deadline: the columns say ("breached", None) for breached-and-paused, ("paused", None) otherwise.
- Otherwise the worst running clock wins: warning over on track; the deadline is the nearest running one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

BREACHED = "breached"
PAUSED = "paused"
WARNING = "warning"
OK = "ok"
NONE = ""


@dataclass(frozen=True)
class ClockStatus:
    """What a badge shows: the state, whether the clock (or every live clock of the ticket) is paused, and the
    running deadline (in the past once overdue; None while paused)."""

    state: str
    paused: bool = False
    due_at: dt.datetime | None = None

    def shown(self, at: dt.datetime) -> str:
        """The colour at `at`: a passed running deadline is red before the scanner has marked it breached."""
        if self.state == NONE:
            return NONE
        if self.state != BREACHED and not self.paused and self.due_at is not None and self.due_at <= at:
            return BREACHED
        return self.state


def clock_status(
    *,
    started: bool,
    fulfilled: bool,
    paused: bool,
    due_at: dt.datetime | None,
    breached: bool,
    warned: bool = False,
) -> ClockStatus:
    """One clock: nothing once fulfilled (or before it starts, or when solved/closed stopped it unmet and
    unbreached); breached (kept while paused); paused; or running (warning or on track) toward `due_at`."""
    if not started or fulfilled:
        return ClockStatus(NONE)
    if breached:
        return ClockStatus(BREACHED, paused=paused, due_at=None if paused else due_at)
    if paused:
        return ClockStatus(PAUSED, paused=True)
    if due_at is None:  # stopped by solved/closed
        return ClockStatus(NONE)
    return ClockStatus(WARNING if warned else OK, due_at=due_at)


def ticket_status(clocks: Iterable[ClockStatus]) -> ClockStatus:
    """A ticket over its clocks: breached if any is, else paused if every live clock is, else warning or on track;
    the deadline is the nearest running one (None when every live clock is paused)."""
    live = [c for c in clocks if c.state != NONE]
    if not live:
        return ClockStatus(NONE)
    running = [c for c in live if not c.paused]
    due = min((c.due_at for c in running if c.due_at is not None), default=None)
    paused = not running
    if any(c.state == BREACHED for c in live):
        return ClockStatus(BREACHED, paused=paused, due_at=due)
    if paused:
        return ClockStatus(PAUSED, paused=True)
    if any(c.state == WARNING for c in live):
        return ClockStatus(WARNING, due_at=due)
    return ClockStatus(OK, due_at=due)


def from_columns(state: str, due_at: dt.datetime | None) -> ClockStatus:
    """A ticket's status back from its columns (what `ticket_status` wrote): a breached ticket without a running
    deadline is breached and paused."""
    if state == PAUSED:
        return ClockStatus(PAUSED, paused=True)
    if state == BREACHED:
        return ClockStatus(BREACHED, paused=due_at is None, due_at=due_at)
    if state in (WARNING, OK):
        return ClockStatus(state, due_at=due_at)
    return ClockStatus(OK, due_at=due_at) if due_at is not None else ClockStatus(NONE)
