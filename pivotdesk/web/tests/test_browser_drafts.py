"""Reply drafts in real Chromium (issue 18): the text an agent types survives a reload (and a second browser), in
its mode; leaving with unsent text asks first; a sent reply leaves no draft behind."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, expect

from pivotdesk.accounts.models import Role
from pivotdesk.tickets.models import ReplyDraft, Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_user

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(workspace: Any) -> Ticket:
    new_agent(workspace=workspace, role=Role.AGENT, user=new_user(username="zhaolei", display_name="赵磊"))
    customer = new_contact(workspace=workspace, name="Emma Clarke", email="emma@example.com")
    return make_ticket(workspace=workspace, requester=customer, subject="Order 88231 is late", channel="email")


def test_a_draft_survives_a_reload_and_another_browser(chromium: Browser, live_server: Any, ticket: Ticket) -> None:
    context, page, errors = signed_in(chromium, live_server.url, "zhaolei")
    url = f"{live_server.url}/tickets/{ticket.number}/"
    page.goto(url)
    page.keyboard.press("n")  # an internal note
    page.locator("#reply-body").fill("")
    page.keyboard.type("Carrier says Thursday; confirm before replying")
    expect(page.locator("#draft-state")).to_have_text("Draft saved")

    # Leaving with unsent text asks first (the agent stays when they say no) …
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    assert dialogs == ["beforeunload"]
    # … and the text comes back, in its mode
    expect(page.locator("#reply-body")).to_have_text("Carrier says Thursday; confirm before replying")
    expect(page.locator("#reply-form")).to_have_attribute("data-mode", "note")
    expect(page.locator("#draft-state")).to_have_text("Draft restored")

    # A second browser (a crash, another machine) finds it too
    other, second, second_errors = signed_in(chromium, live_server.url, "zhaolei")
    second.goto(url)
    expect(second.locator("#reply-body")).to_have_text("Carrier says Thursday; confirm before replying")
    other.close()

    # Sent, the draft is gone: the box is empty and stays empty after a reload, with no question on leaving
    page.locator("#reply-body").focus()
    with page.expect_response(lambda r: r.url.endswith("/reply/") and r.request.method == "POST") as sent:
        page.keyboard.press("Control+Enter")
    assert sent.value.status == 200, (sent.value.status, sent.value.text()[:300])
    expect(page.locator("#conversation")).to_contain_text("Carrier says Thursday")
    expect(page.locator("#reply-body")).to_have_text("")
    page.reload()
    expect(page.locator("#reply-body")).to_have_text("")
    assert dialogs == ["beforeunload"] and not ReplyDraft.objects.exists()
    assert errors == [] and second_errors == []
    context.close()
