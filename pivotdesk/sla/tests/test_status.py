"""The one rule for what an SLA badge says (`sla.domain.status`): per clock, per ticket, and back from the ticket's
columns, so the queue (columns) and the ticket page (clocks) cannot disagree."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from pivotdesk.sla.domain.status import ClockStatus, clock_status, from_columns, ticket_status

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SOON, LATER = AT + dt.timedelta(hours=1), AT + dt.timedelta(hours=3)


def test_a_breach_is_kept_while_the_clock_is_paused() -> None:
    s = clock_status(started=True, fulfilled=False, paused=True, due_at=None, breached=True)
    assert (s.state, s.paused, s.due_at) == ("breached", True, None)


def test_paused_wins_over_a_reached_warning_and_running_clocks_warn() -> None:
    assert clock_status(started=True, fulfilled=False, paused=True, due_at=None, breached=False, warned=True) == (
        ClockStatus("paused", paused=True)
    )
    assert clock_status(started=True, fulfilled=False, paused=False, due_at=SOON, breached=False, warned=True) == (
        ClockStatus("warning", due_at=SOON)
    )


@pytest.mark.parametrize(
    ("started", "fulfilled", "due_at"), [(False, False, None), (True, True, None), (True, False, None)]
)
def test_unstarted_fulfilled_and_stopped_clocks_show_nothing(started: bool, fulfilled: bool, due_at: None) -> None:
    assert clock_status(started=started, fulfilled=fulfilled, paused=False, due_at=due_at, breached=False).state == ""


def test_a_ticket_is_breached_if_any_clock_is_and_paused_when_every_live_clock_is() -> None:
    breached_paused = clock_status(started=True, fulfilled=False, paused=True, due_at=None, breached=True)
    paused = clock_status(started=True, fulfilled=False, paused=True, due_at=None, breached=False)
    done = clock_status(started=True, fulfilled=True, paused=False, due_at=None, breached=True)
    assert ticket_status([breached_paused, paused, done]) == ClockStatus("breached", paused=True, due_at=None)
    running = clock_status(started=True, fulfilled=False, paused=False, due_at=LATER, breached=False)
    late = clock_status(started=True, fulfilled=False, paused=False, due_at=SOON, breached=True)
    assert ticket_status([running, late]) == ClockStatus("breached", paused=False, due_at=SOON)
    assert ticket_status([done]) == ClockStatus("")


def test_the_columns_give_back_the_ticket_status_for_every_mix_of_clocks() -> None:
    """What `sla_apply` writes (state, due) reads back as the same status the ticket's clocks give, in every
    combination the clock allows (pausing is ticket-wide: live clocks are all paused or all running)."""
    # (started, fulfilled, due_at while running, breached, warned)
    kinds: list[tuple[bool, bool, dt.datetime | None, bool, bool]] = [
        (True, False, SOON, False, False),
        (True, False, LATER, False, True),
        (True, False, AT - dt.timedelta(minutes=5), True, True),
        (True, False, LATER, True, False),  # breached, then re-targeted to a later due time
        (True, True, None, True, False),
        (False, False, None, False, False),
    ]
    for paused in (False, True):
        for n in range(1, 4):
            for combo in itertools.product(kinds, repeat=n):
                clocks = [
                    clock_status(
                        started=started,
                        fulfilled=fulfilled,
                        paused=paused and started and not fulfilled,
                        due_at=None if paused else due_at,
                        breached=breached,
                        warned=warned,
                    )
                    for started, fulfilled, due_at, breached, warned in combo
                ]
                summary = ticket_status(clocks)
                assert from_columns(summary.state, summary.due_at) == summary, combo
