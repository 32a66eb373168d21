"""A ticket whose SLA check crashes is a visible row with the reason, retried with back-off, resolved when a later
check succeeds; the back-off itself is pure (property-tested)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.sla.models import SLACheckFailure, SLAFiring
from pivotdesk.sla.services import scan as scan_module
from pivotdesk.sla.services import sla_apply, sla_scan_due
from pivotdesk.sla.services.failures import FIRST_RETRY, MAX_RETRY, retry_delay
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_targets
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


# --- the back-off (pure) ----------------------------------------------------------------------------------------


def test_retry_delays_double_from_five_minutes_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [dt.timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert retry_delay(7) == dt.timedelta(minutes=320)
    assert retry_delay(8) == MAX_RETRY == dt.timedelta(hours=6)
    assert retry_delay(10**6) == MAX_RETRY
    with pytest.raises(ValueError, match="1-based"):
        retry_delay(0)


@given(st.integers(min_value=1, max_value=10_000))
def test_retry_delay_is_monotonic_bounded_and_doubles_below_the_cap(attempts):
    delay = retry_delay(attempts)
    assert FIRST_RETRY <= delay <= MAX_RETRY
    following = retry_delay(attempts + 1)
    assert following >= delay
    assert following == min(2 * delay, MAX_RETRY)


# --- the scanner ------------------------------------------------------------------------------------------------


@pytest.fixture
def tickets(clock, workspace):
    CalendarFactory(workspace=workspace, is_default=True)
    policy = PolicyFactory(workspace=workspace, name="Standard")
    add_targets(policy, "normal", first_reply=120)
    broken, fine = make_ticket(workspace=workspace), make_ticket(workspace=workspace)
    for t in (broken, fine):
        sla_apply(actor=Actor.system(), ticket=t, now=at(2, 9, 0))
    return broken, fine


@pytest.fixture
def crash(monkeypatch):
    """Make the checks of the given tickets raise, until `crash.heal()`."""
    real = scan_module.apply_in_transaction
    broken: set[int] = set()

    def flaky(*, ticket, **kwargs):
        if ticket.pk in broken:
            raise RuntimeError("calendar table is corrupt")
        return real(ticket=ticket, **kwargs)

    monkeypatch.setattr(scan_module, "apply_in_transaction", flaky)

    class Control:
        def add(self, ticket):
            broken.add(ticket.pk)

        def heal(self):
            broken.clear()

    return Control()


pytestmark = pytest.mark.django_db


def test_a_crashing_check_is_a_row_with_the_reason_and_backs_off(clock, tickets, crash):
    broken, fine = tickets
    crash.add(broken)
    report = sla_scan_due(actor=Actor.system(), now=at(2, 10, 30))
    assert (report.checked, report.failed) == (2, 1)
    assert SLAFiring.objects.filter(ticket=fine).exists()  # the other ticket fired its warning
    row = SLACheckFailure.objects.get(ticket=broken)
    assert (row.attempts, row.error) == (1, "RuntimeError: calendar table is corrupt")
    assert (row.first_failed_at, row.retry_at, row.resolved_at) == (at(2, 10, 30), at(2, 10, 35), None)
    broken.refresh_from_db()
    assert broken.sla_next_check_at == at(2, 10, 35)

    assert sla_scan_due(actor=Actor.system(), now=at(2, 10, 34)).checked == 0  # not before its retry time
    sla_scan_due(actor=Actor.system(), now=at(2, 10, 35))
    sla_scan_due(actor=Actor.system(), now=at(2, 10, 45))
    row.refresh_from_db()
    assert (row.attempts, row.first_failed_at, row.last_failed_at) == (3, at(2, 10, 30), at(2, 10, 45))
    assert row.retry_at == at(2, 11, 5)  # 5, 10, then 20 minutes

    crash.heal()
    report = sla_scan_due(actor=Actor.system(), now=at(2, 11, 5))
    assert report.failed == 0
    row.refresh_from_db()
    assert row.resolved_at == at(2, 11, 5)
    assert SLAFiring.objects.filter(ticket=broken, kind="breach").exists()  # the late check fired the breach
    broken.refresh_from_db()
    assert broken.sla_next_check_at is None


def test_failing_again_after_a_success_starts_a_new_run(clock, tickets, crash):
    broken, _ = tickets
    crash.add(broken)
    sla_scan_due(actor=Actor.system(), now=at(2, 10, 30))
    crash.heal()
    sla_scan_due(actor=Actor.system(), now=at(2, 10, 35))
    crash.add(broken)
    Ticket.objects.filter(pk=broken.pk).update(sla_next_check_at=at(2, 10, 40))
    sla_scan_due(actor=Actor.system(), now=at(2, 10, 40))
    row = SLACheckFailure.objects.get(ticket=broken)
    assert (row.attempts, row.first_failed_at, row.resolved_at, row.retry_at) == (1, at(2, 10, 40), None, at(2, 10, 45))


def test_a_failed_event_recompute_hands_the_ticket_to_the_scanner(clock, tickets, monkeypatch):
    from pivotdesk.sla import tasks

    broken, _ = tickets

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks.services, "sla_apply", boom)
    clock.set(at(2, 9, 20))
    tasks.sla_apply_on_event(
        {"name": "ticket.updated", "workspace_id": broken.workspace_id, "payload": {"ticket_id": broken.pk}}
    )
    broken.refresh_from_db()
    assert broken.sla_next_check_at == at(2, 9, 20)
