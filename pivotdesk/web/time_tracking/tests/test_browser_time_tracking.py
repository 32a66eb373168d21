"""Time tracking in real Chromium (issue 18): an agent logs time by hand in the ticket page's "Time spent" section
and sees the total; the page's own tracker reports active time when the agent leaves it."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, expect

from pivotdesk.accounts.models import Role
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_user
from pivotdesk.workforce.time_models import TimeEntry, TimeSource

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(workspace: Any) -> Ticket:
    new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username="zhaolei", display_name="赵磊"))
    customer = new_contact(workspace=workspace, name="Emma Clarke", email="emma@example.com")
    return make_ticket(workspace=workspace, requester=customer, subject="Order 88231 is late", channel="email")


def test_an_agent_logs_time_and_sees_the_total(chromium: Browser, live_server: Any, ticket: Ticket) -> None:
    context, page, errors = signed_in(chromium, live_server.url, "zhaolei")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    section = page.locator("details[data-fold=time]")
    expect(section.locator("[data-time-total]")).to_have_text("0 s")
    section.locator("input[name=duration]").fill("1h 15m")
    section.locator("input[name=note]").fill("Called the carrier")
    section.get_by_role("button", name="Add time").click()
    expect(section.locator("[data-time-total]")).to_have_text("1 h 15 min")
    expect(section.locator("[data-time-mine]")).to_have_text("1 h 15 min")
    expect(section.locator(".time-entries")).to_contain_text("Called the carrier")
    # a bad duration is refused with a readable message, the total unchanged
    section.locator("input[name=duration]").fill("soon")
    section.get_by_role("button", name="Add time").click()
    expect(page.locator("#toasts")).to_contain_text("not a duration")
    expect(section.locator("[data-time-total]")).to_have_text("1 h 15 min")
    # the tracker reports the active seconds when the agent leaves the page
    page.mouse.move(200, 200)
    page.wait_for_timeout(2500)
    page.evaluate("window.pivotdeskTimeTracking.report(false)")
    page.wait_for_timeout(1000)
    tracked = TimeEntry.objects.filter(ticket=ticket, source=TimeSource.AUTOMATIC).first()
    assert tracked is not None and 1 <= tracked.seconds <= 75
    assert TimeEntry.objects.filter(ticket=ticket, source=TimeSource.MANUAL).get().seconds == 4500
    assert errors == []
    context.close()
