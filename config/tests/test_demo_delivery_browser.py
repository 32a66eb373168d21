"""Delivery in real Chromium, in Chinese (issue 12): a reply box on a channel with no account warns before sending
and sends an admin to set one up; a demo-delivery account is labelled on the channel list, and a reply through it
shows "Sent" with a tooltip saying nothing was sent."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from pivotdesk.accounts.models import Role
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.tickets.models import Message
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_user

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pivotdesk-test"


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


def _signed_in(chromium: Browser, base: str, username: str) -> tuple[Any, Page, list[str]]:
    context = chromium.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-Hans"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")
    return context, page, errors


def test_a_chinese_admin_is_warned_then_sends_through_demo_delivery(
    chromium: Browser, live_server: Any, workspace: Any
) -> None:
    new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="wang.admin", display_name="王管理"))
    customer = new_contact(workspace=workspace, name="李娜", email="lina@example.com")
    ticket = make_ticket(workspace=workspace, requester=customer, subject="发票抬头错误", channel="email")
    base = live_server.url
    context, page, errors = _signed_in(chromium, base, "wang.admin")

    # no email account: the reply box says the reply will not be delivered, and where to set one up
    page.goto(f"{base}/tickets/{ticket.number}/")
    warning = page.locator(".reply-undelivered")
    expect(warning).to_contain_text("没有设置邮件账号：此回复不会送达。")
    link = warning.locator("a")
    expect(link).to_have_text("去设置 →")
    link.click()
    page.wait_for_url("**/settings/channels/new/?kind=email")

    # a demo-delivery mailbox: labelled on the channel list, and the warning is gone
    ChannelAccount.objects.create(workspace=workspace, kind="email", name="演示邮箱", config={"delivery": "demo"})
    page.goto(f"{base}/settings/channels/")
    expect(page.locator(".state.demo-delivery")).to_have_text("演示投递——不会真正发出")
    page.goto(f"{base}/tickets/{ticket.number}/")
    expect(page.locator(".reply-undelivered")).to_have_count(0)

    # a reply through it shows "Sent", and its tooltip says nothing was sent
    page.fill("#reply-body", "您好，发票已重新开具。")
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#conversation")).to_contain_text("您好，发票已重新开具。")
    reply = Message.objects.filter(ticket=ticket, author_type="agent")
    page.goto(f"{base}/tickets/{ticket.number}/")
    status = page.locator(".delivery.sent")
    expect(status).to_have_count(1)
    expect(status).to_have_attribute("title", "演示投递——不会真正发出")
    assert reply.get().delivery_status == "sent"
    assert errors == []
    context.close()
