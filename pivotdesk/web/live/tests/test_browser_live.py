"""Live updates in real Chromium (issue 18): a change by one agent appears on another agent's open page — the queue's
rows and the ticket page's conversation — pushed by the server-sent event stream, not by the slow backstop polls
(60 s on the queue, 10 s for the pulse). The page marks each push (`html[data-live-last]`), so these tests prove the
path; how fast it is (the issue's "within 1 s") is measured by `python -m bench.desk_pages`, not asserted here on a
loaded machine."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from pivotdesk.accounts.models import Role
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITHIN_MS = 5_000  # well inside the backstops; the latency itself is the benchmark's figure


@pytest.fixture(autouse=True)
def _streams_last(settings: Any) -> None:
    settings.PIVOTDESK_LIVE_WSGI_SECONDS = 55.0  # as served: a reconnect inside a measurement would add a second
    settings.PIVOTDESK_LIVE_UPDATES = True


@pytest.fixture
def ticket(workspace: Any) -> Ticket:
    for username, name in (("linna", "林娜"), ("zhaolei", "赵磊")):
        new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username=username, display_name=name))
    customer = new_contact(workspace=workspace, name="Emma Clarke", email="emma@example.com")
    return make_ticket(workspace=workspace, requester=customer, subject="Order 88231 is late", channel="email")


def _post_as(page: Page, url: str, form: dict[str, str | float | bool]) -> float:
    """POST a form as the page's agent (its cookies and CSRF token); the time the answer arrived."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(url, form=form, headers={"X-CSRFToken": token, "Referer": url})
    assert answer.status == 200, (answer.status, answer.text()[:300])
    return time.monotonic()


def _live(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)


def _pushed(page: Page, number: int) -> None:
    """The stream, not a poll, told the page about ticket `number`."""
    expect(page.locator("html")).to_have_attribute("data-live-last", str(number), timeout=WITHIN_MS)


def test_a_note_by_one_agent_is_pushed_to_the_others_ticket_page(
    chromium: Browser, live_server: Any, ticket: Ticket
) -> None:
    url = f"{live_server.url}/tickets/{ticket.number}/"
    watching, watcher, watcher_errors = signed_in(chromium, live_server.url, "linna")
    writing, writer, _ = signed_in(chromium, live_server.url, "zhaolei")
    watcher.goto(url)
    writer.goto(url)
    _live(watcher)
    time.sleep(1.5)  # past the page's first pulse: only the push can bring the note in time

    sent = _post_as(writer, f"{url}reply/", {"kind": "note", "body": "Carrier confirmed Thursday delivery"})
    expect(watcher.locator("#conversation")).to_contain_text("Carrier confirmed Thursday delivery", timeout=WITHIN_MS)
    _pushed(watcher, ticket.number)
    print(f"note visible to the other agent {1000 * (time.monotonic() - sent):.0f} ms after the answer")
    assert watcher_errors == []
    watching.close()
    writing.close()


def test_a_new_ticket_is_pushed_into_the_others_queue(
    chromium: Browser, live_server: Any, ticket: Ticket, workspace: Any
) -> None:
    watching, watcher, watcher_errors = signed_in(chromium, live_server.url, "linna")
    _live(watcher)
    expect(watcher.locator("#queue-rows")).to_contain_text("Order 88231 is late")
    customer = new_contact(workspace=workspace, name="Wang Fang", email="wang@example.cn")
    new = make_ticket(workspace=workspace, requester=customer, subject="发票抬头需要修改", channel="email")
    made = time.monotonic()
    expect(watcher.locator("#queue-rows")).to_contain_text("发票抬头需要修改", timeout=WITHIN_MS)
    _pushed(watcher, new.number)
    print(f"new ticket in the other agent's queue {1000 * (time.monotonic() - made):.0f} ms after its commit")
    assert watcher_errors == []
    watching.close()
