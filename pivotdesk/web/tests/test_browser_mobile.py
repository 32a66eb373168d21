"""The agent's screens on a phone (issue 18), in real Chromium at 390×844 with touch: the page never scrolls sideways,
the navigation opens from the menu button, a queue row is a card that a tap opens, and on the ticket page the reply
box is on screen and sends."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, ViewportSize, expect

from pivotdesk.accounts.models import Role
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.browser import PASSWORD
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_organization, new_user

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE: ViewportSize = {"width": 390, "height": 844}
SUBJECTS = [
    "订单 SO-20261121-0042 的发票抬头开错了，需要重新开具增值税专用发票，麻烦尽快处理，谢谢",
    "Refund for a double charge on my card ending 4421 — still not back after ten days, please escalate",
]


@pytest.fixture
def tickets(workspace: Any) -> list[Ticket]:
    new_agent(workspace=workspace, role=Role.SUPERVISOR, user=new_user(username="zhaolei", display_name="赵磊"))
    org = new_organization(workspace=workspace, name="宏达科技有限公司 Hongda Technology Co., Ltd.", tier="vip")
    made = []
    for i in range(8):
        customer = new_contact(workspace=workspace, name=f"客户{i} Customer with a long name", organization=org)
        made.append(make_ticket(workspace=workspace, requester=customer, subject=SUBJECTS[i % 2], channel="email"))
    return made


def _phone(chromium: Browser, base: str, locale: str) -> tuple[Any, Page]:
    context = chromium.new_context(locale=locale, viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "zhaolei")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")
    return context, page


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_an_agent_works_the_queue_and_replies_on_a_phone(
    chromium: Browser, live_server: Any, tickets: list[Ticket], locale: str
) -> None:
    context, page = _phone(chromium, live_server.url, locale)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The queue: no sideways scrolling, the navigation behind the menu button, rows as cards big enough to tap
    _no_sideways_scroll(page)
    toggle = page.locator("[data-nav-toggle]")
    nav = page.locator("#mainnav")
    expect(toggle).to_be_visible()
    expect(nav).to_be_hidden()
    toggle.tap()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    _no_sideways_scroll(page)
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    rows = page.locator("#queue-rows tr.qrow")
    expect(rows.first).to_be_visible()
    box = rows.first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 340, box  # a card, not a squeezed table row
    subject = rows.first.locator(".subject")
    subject_box = subject.bounding_box()
    assert subject_box is not None and subject_box["x"] + subject_box["width"] <= PHONE["width"], subject_box

    # A tap opens the ticket
    number = rows.first.get_attribute("data-number")
    rows.first.locator(".col-requester").tap()
    page.wait_for_url(f"{live_server.url}/tickets/{number}/")
    _no_sideways_scroll(page)

    # The reply box is on screen at once (kept at the bottom while the conversation scrolls) and sends
    body = page.locator("#reply-body")
    expect(body).to_be_in_viewport()
    side = page.locator("aside.ticket-side").bounding_box()
    conversation = page.locator(".ticket-main").bounding_box()
    assert side is not None and conversation is not None and side["y"] >= conversation["y"] + conversation["height"] - 1
    body.tap()
    page.keyboard.type("We have asked the carrier and will write again today.")
    expect(page.locator("#reply-html")).to_have_value(re.compile("asked the carrier"))  # the editor kept the text
    page.locator("#reply-form button[type=submit]").tap()
    expect(page.locator(".ticket-main")).to_contain_text("We have asked the carrier and will write again today.")
    _no_sideways_scroll(page)
    assert errors == []
    context.close()
