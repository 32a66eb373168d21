"""The chat widget in real Chromium: a shop page on another origin embeds it with one script tag, the visitor
chats, an agent's reply (through the service) appears in the widget. Screenshots of the widget, the public form
and the channels admin go to /tmp for a human look."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.tests.factories import AgentFactory, UserFactory
from pivotdesk.channels.models import OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import CustomField, Ticket

# CI machines have 2 loaded cores: give each expectation more than Playwright's default 5 s.
expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("PIVOTDESK_SCREENSHOTS", "/tmp/pivotdesk-shots"))  # noqa: S108 - never in the repo


@pytest.fixture
def pages(chromium: Browser, live_server: Any) -> Iterator[list[Page]]:
    """Pages opened by a test, closed before the live server and the database are torn down (a polling widget
    left open would hold SQLite locks while the test database is flushed)."""
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.close()


def shop_page(widget_src: str, key: str) -> bytes:
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>宏达商城</title>
<style>body{{font-family:sans-serif;margin:0;background:#fafafa}} header{{background:#111;color:#fff;padding:18px 32px}}
main{{padding:32px}} .p{{display:inline-block;width:180px;height:140px;margin:8px;background:#e5e7eb;border-radius:8px}}</style>
</head><body><header><b>宏达商城 Hongda Shop</b></header><main><h1>新品上架</h1>
<div class="p"></div><div class="p"></div><div class="p"></div></main>
<script src="{widget_src}" data-channel="{key}" data-lang="zh-hans" async></script></body></html>""".encode()


@pytest.fixture
def shop(live_server: Any) -> Iterator[dict[str, Any]]:
    """A shop on its own origin (another port) whose page embeds the widget with one script tag."""
    state: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = shop_page(f"{live_server.url}/static/channels/widget.js", state["key"])
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def test_visitor_chats_from_another_origin_and_sees_the_agents_reply(
    chromium: Browser, live_server: Any, shop: dict[str, Any], workspace: Any, pages: list[Page]
):
    chat = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="chat",
        name="Shop chat",
        config={
            "title_zh": "宏达在线客服",
            "greeting_zh": "您好！请问有什么可以帮您？",
            "allowed_origins": [shop["origin"]],
        },
    )
    shop["key"] = chat.webhook_key
    agent = cast(
        AgentProfile, AgentFactory(workspace=workspace, user=UserFactory(username="liwei", display_name="李伟"))
    )
    page = chromium.new_page(viewport={"width": 1100, "height": 760})
    pages.append(page)
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(r.url))
    page.goto(shop["origin"] + "/")
    launcher = page.locator("[data-pivotdesk-chat] .launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    expect(page.locator("[data-pivotdesk-chat] .title")).to_have_text("宏达在线客服")
    page.fill("[data-pivotdesk-chat] input.name", "王芳")
    page.fill("[data-pivotdesk-chat] input.email", "wangfang@example.cn")
    page.fill("[data-pivotdesk-chat] textarea.text", "你好，我的订单 88231 还没发货")
    page.keyboard.press("Enter")
    expect(page.locator("[data-pivotdesk-chat] .msg.visitor[data-id]")).to_have_count(1, timeout=10_000)
    ticket = Ticket.objects.get(workspace=workspace)
    assert ticket.channel == "chat" and ticket.requester.email == "wangfang@example.cn"
    expect(page.locator("[data-pivotdesk-chat] .sub")).to_contain_text(str(ticket.number))

    reply = ticket_services.message_create(
        ticket=ticket, actor=Actor.for_agent(agent), body="您好王芳，已为您加急处理，今天发出。"
    )
    agent_bubble = page.locator("[data-pivotdesk-chat] .msg.agent")
    expect(agent_bubble).to_contain_text("已为您加急处理", timeout=15_000)
    expect(agent_bubble).to_contain_text("李伟")
    assert OutboundMessage.objects.get(message=reply).status == "sent"
    _shot(page, "widget-chat.png")

    page.fill("[data-pivotdesk-chat] textarea.text", "太好了，谢谢！")
    page.click("[data-pivotdesk-chat] button.send")
    expect(page.locator("[data-pivotdesk-chat] .msg.visitor[data-id]")).to_have_count(2, timeout=10_000)
    assert Ticket.objects.filter(workspace=workspace).count() == 1
    assert ticket.messages.count() == 3
    assert not failures, failures


def test_screenshots_of_the_public_form_and_the_channels_admin(
    chromium: Browser, live_server: Any, workspace: Any, pages: list[Page]
):
    CustomField.objects.create(
        workspace=workspace, key="order_no", label="Order number", label_zh="订单号", field_type="text"
    )
    form = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="web_form",
        name="Support form",
        config={
            "title": "Contact Hongda support",
            "title_zh": "联系宏达客服",
            "fields": ["name", "email", "phone", "subject", "description", "order_no"],
        },
    )
    channel_account_create(actor=Actor.system(),
        workspace=workspace, kind="email", name="support@hongda.cn", config={"address": "support@hongda.cn"},
        secrets={"password": "x"},
    )  # fmt: skip
    channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="wechat", name="宏达公众号", config={"app_id": "wx123"}
    )
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    pages.append(page)
    page.goto(f"{live_server.url}/channels/form/{form.webhook_key}/?lang=zh-hans")
    expect(page.locator("h1")).to_have_text("联系宏达客服")
    _shot(page, "form-zh.png")
    page.goto(f"{live_server.url}/channels/form/{form.webhook_key}/?lang=en")
    page.fill("#f-email", "not an address")
    page.click("button[type=submit]")
    expect(page.locator(".error").first).to_be_visible()
    _shot(page, "form-errors.png")
    page.fill("#f-email", "emma@example.com")
    page.fill("#f-name", "Emma Clarke")
    page.fill("#f-description", "The export to Excel times out.")
    page.fill("#f-order_no", "A-1001")
    page.click("button[type=submit]")
    expect(page.locator(".number b")).to_contain_text("#")
    _shot(page, "form-thanks.png")

    AgentFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(username="wangfang", display_name="王芳"))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "wangfang")
    page.fill("input[name=password]", "pivotdesk-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/queue/**")
    page.goto(f"{live_server.url}/settings/channels/")
    expect(page.locator("h1")).to_contain_text("Channels")
    _shot(page, "channels-admin.png")
    page.click("text=support@hongda.cn")
    expect(page.locator(".set").first).to_be_visible()
    _shot(page, "channel-edit.png")
