"""@mentions in real Chromium (issue 18): in note mode, "@" and a few letters list the colleagues; Enter inserts
the handle; the sent note notifies the colleague, who sees it in their notifications."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, expect

from pivotdesk.accounts.models import Role
from pivotdesk.notifications.models import Notification
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_user

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(workspace: Any) -> Ticket:
    new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username="zhaolei", display_name="赵磊"))
    new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username="li.na", display_name="李娜"))
    new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username="liu", display_name="刘洋"))
    customer = new_contact(workspace=workspace, name="Emma Clarke", email="emma@example.com")
    return make_ticket(workspace=workspace, requester=customer, subject="Order 88231 is late", channel="email")


def test_a_mention_is_picked_from_the_list_and_notifies_the_colleague(
    chromium: Browser, live_server: Any, ticket: Ticket
) -> None:
    context, page, errors = signed_in(chromium, live_server.url, "zhaolei")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.keyboard.press("n")
    page.locator("#reply-body").fill("")
    page.keyboard.type("Please check the carrier, @l")
    options = page.locator("#mention-list li[data-handle]")
    expect(options).to_have_count(2)  # li.na and liu, not the author
    page.keyboard.type("i.")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("李娜")
    page.keyboard.press("Enter")  # inserts, does not send or break the line
    expect(page.locator("#mention-list")).to_be_hidden()
    expect(page.locator("#reply-body")).to_have_text("Please check the carrier, @li.na ")
    page.keyboard.type("thanks")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#conversation")).to_contain_text("@li.na thanks")
    told = Notification.objects.get(kind="ticket.mentioned")
    assert told.recipient is not None and told.recipient.user.username == "li.na"

    # The colleague sees it among their notifications, in their language
    other, theirs, their_errors = signed_in(chromium, live_server.url, "li.na")
    theirs.goto(f"{live_server.url}/notifications/")
    expect(theirs.locator("body")).to_contain_text(f"赵磊 mentioned you on #{ticket.number}")
    # A public reply lists nobody
    page.keyboard.press("r")
    page.locator("#reply-body").focus()
    page.keyboard.type("Hi @l")
    page.wait_for_timeout(400)
    expect(page.locator("#mention-list")).to_be_hidden()
    assert errors == [] and their_errors == []
    other.close()
    context.close()
